// `kedge ssh --proxy NAME`, the OpenSSH `ProxyCommand` (docs/ssh.md): stdin to the hub WebSocket, the WebSocket to
// stdout, nothing else on stdout. OpenSSH itself speaks SSH and checks the host key against the known_hosts file
// `kedge ssh-config` writes. Ends when either side does; backpressure both ways comes from the stream pipes.
import { closeError, openEdgeSocket } from './ssh-socket.ts';
import type { SshTarget } from './ssh-target.ts';

export interface ProxyIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
}

/** Resolves 0 when sshd ended the connection or ssh closed its side; throws when the hub or the edge cut it. */
export async function runSshProxy(target: SshTarget, io: ProxyIO): Promise<number> {
  const socket = await openEdgeSocket(target.url, target.edge, target.authorization, target.tls);
  const { stream } = socket;
  let stdinEnded = false;
  io.stdin.on('end', () => {
    stdinEnded = true;
  });
  // ssh closing our stdin means it is done: ending the stream closes the WebSocket (it has no half-close).
  io.stdin.pipe(stream);
  stream.pipe(io.stdout, { end: false });
  let outputFailed = false;
  io.stdout.on('error', () => {
    // ssh went away: nobody is left to read.
    outputFailed = true;
    socket.terminate();
  });
  const { code, reason } = await socket.closed;
  // Let what the WebSocket delivered reach stdout before the caller exits.
  await new Promise<void>((resolve) => {
    if (stream.readableEnded) resolve();
    else stream.once('end', resolve).once('close', resolve);
  });
  io.stdin.unpipe(stream);
  if (stdinEnded || outputFailed) return 0;
  const err = closeError(code, reason, target.edge);
  if (err) throw err;
  return 0;
}
