// `kedge ssh` itself: an ssh2 client whose socket is the hub WebSocket, holding sshd to the pinned host keys,
// authenticating as OpenSSH does, then one session: a PTY with the terminal in raw mode, or a command with stdin,
// stdout and stderr streamed separately. Resolves to the exit status (the remote one, or 255 as OpenSSH).
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Client, ClientChannel, ConnectConfig, PseudoTtyOptions } from 'ssh2';
import { checkHostKey, type HostKeyCheck } from '../api/host-keys.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { authHandler, authPlan, defaultIdentities, fileExists, readKeyFile, type AuthState } from './ssh-auth.ts';
import { remoteExitStatus, SSH_FAILURE_STATUS, type SshInvocation } from './ssh-args.ts';
import { hostKeyAlgorithms, hostKeyError } from './ssh-host-key.ts';
import { closeError, openEdgeSocket, type EdgeSocket } from './ssh-socket.ts';
import type { SshTarget } from './ssh-target.ts';
import { askTerminal, canPrompt, enterRawMode } from './terminal.ts';

export interface SessionIO {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  home?: string;
}

const DEFAULT_TERM = 'xterm-256color';
/** Without a person to type a password, a handshake that takes this long is stuck. */
const UNATTENDED_READY_TIMEOUT_MS = 60_000;

export async function runSshSession(inv: SshInvocation, target: SshTarget, io: SessionIO): Promise<number> {
  // Loaded here, so commands without SSH do not pay for it.
  const ssh2 = (await import('ssh2')).default;
  const algorithms = hostKeyAlgorithms(target.pinned);
  if (algorithms.length === 0)
    throw new CLIError(
      CLIErrorCode.NotApplicable,
      `edge ${inv.edge}: none of its pinned host key types can be verified by kedge ssh; use OpenSSH with 'kedge ssh-config ${inv.edge}'`,
    );
  const interactive = canPrompt(io.stdin);
  const note = (l: string): void => void io.stderr.write(`${l}\n`);
  const plan = authPlan({
    agentSocket: io.env.SSH_AUTH_SOCK,
    identities: inv.identities,
    defaults: defaultIdentities(io.home),
    interactive,
    exists: fileExists,
  });
  plan.notes.forEach(note);
  const auth = authHandler(inv.user, inv.edge, plan.steps, interactive, {
    prompt: (q, echo) => askTerminal(q, echo, io.stdin, io.stderr),
    note,
    parseKey: (data, passphrase) => ssh2.utils.parseKey(data, passphrase),
    readFile: readKeyFile,
  });
  let hostKey: HostKeyCheck | undefined;

  const socket = await openEdgeSocket(target.url, inv.edge, target.authorization, target.tls);
  const client = new ssh2.Client();
  client.on('banner', (msg: string) => io.stderr.write(msg));
  try {
    await connect(client, {
      sock: socket.stream,
      username: inv.user,
      algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (blob: Buffer) => {
        hostKey = checkHostKey(target.pinned, blob);
        return hostKey.ok;
      },
      authHandler: auth.handler,
      readyTimeout: interactive ? 0 : UNATTENDED_READY_TIMEOUT_MS,
      ...(inv.verbose ? { debug: (l: string) => note(`debug: ${(performance.now() / 1000).toFixed(3)} ${l}`) } : {}),
    });
  } catch (err) {
    socket.terminate();
    throw await connectError(err, inv, hostKey, auth.state, socket);
  }

  let channel: ClientChannel;
  try {
    channel = await openChannel(client, inv, io);
  } catch (err) {
    client.end();
    socket.terminate();
    throw await lostError(err as Error, inv.edge, socket, 'could not start the session');
  }
  const status = await pump(client, socket.stream, channel, inv, io, note);
  client.end();
  if (status !== undefined) return status;
  // The remote prompt may have left the cursor mid-line.
  if (inv.pty) io.stderr.write('\r\n');
  socket.terminate();
  throw await lostError(undefined, inv.edge, socket, 'the session ended without an exit status');
}

function connect(client: Client, config: ConnectConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      client.removeListener('ready', onReady);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      client.removeListener('end', onClose);
      // A later error (the connection cut mid-session) is reported through the close code instead.
      client.on('error', () => undefined);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new Error('the connection closed during the SSH handshake'));
    client.once('ready', onReady).once('error', onError).once('close', onClose).once('end', onClose);
    client.connect(config);
  });
}

async function connectError(
  err: unknown,
  inv: SshInvocation,
  hostKey: HostKeyCheck | undefined,
  auth: AuthState,
  socket: EdgeSocket,
): Promise<Error> {
  if (hostKey !== undefined && !hostKey.ok) return hostKeyError(inv.edge, hostKey);
  if (auth.aborted) return auth.aborted;
  if ((err as { level?: string }).level === 'client-authentication') {
    const allowed = auth.methodsLeft.length > 0 ? ` (sshd allows: ${auth.methodsLeft.join(',')})` : '';
    return new CLIError(
      CLIErrorCode.SshAuthFailed,
      `permission denied for ${inv.user}@${inv.edge}${allowed}: check the login name (-l USER or USER@${inv.edge}), add your key to ssh-agent or pass -i FILE`,
    );
  }
  return lostError(err as Error, inv.edge, socket, 'SSH handshake failed');
}

/** The hub's close code says why a connection ended early; an SSH-level error is the fallback. */
async function lostError(err: Error | undefined, edge: string, socket: EdgeSocket, what: string): Promise<Error> {
  const { code, reason } = await socket.closed;
  const byHub = code === 1000 ? undefined : closeError(code, reason, edge);
  if (byHub) return byHub;
  return new CLIError(
    CLIErrorCode.SshConnectionLost,
    `connection to ${edge}: ${what}${err ? `: ${err.message}` : ''}`,
    err ? { cause: err } : {},
  );
}

function terminalSize(io: SessionIO): { rows: number; cols: number } | undefined {
  const tty = [io.stdout, io.stderr].find((s) => s.isTTY === true);
  if (!tty) return undefined;
  const [cols, rows] = tty.getWindowSize();
  return { rows, cols };
}

function openChannel(client: Client, inv: SshInvocation, io: SessionIO): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | undefined, ch: ClientChannel): void => (err ? reject(err) : resolve(ch));
    if (!inv.pty) {
      if (inv.command === undefined) client.shell(false, cb);
      else client.exec(inv.command, cb);
      return;
    }
    const size = terminalSize(io) ?? { rows: 24, cols: 80 };
    const pty: PseudoTtyOptions = { term: io.env.TERM || DEFAULT_TERM, rows: size.rows, cols: size.cols };
    if (inv.command === undefined) client.shell(pty, cb);
    else client.exec(inv.command, { pty }, cb);
  });
}

/** Streams until the channel closed; resolves to the remote exit status (undefined when none came). */
async function pump(
  client: Client,
  sock: Duplex,
  channel: ClientChannel,
  inv: SshInvocation,
  io: SessionIO,
  note: (l: string) => void,
): Promise<number | undefined> {
  let status: number | undefined;
  channel.on('exit', (code: number | null, signal?: string) => {
    status = remoteExitStatus(code, signal);
  });
  const restoreTerminal = inv.pty ? enterRawMode(io.stdin) : () => undefined;
  let lastSize = terminalSize(io);
  const onResize = (): void => {
    const s = terminalSize(io);
    if (!s || (lastSize && s.rows === lastSize.rows && s.cols === lastSize.cols)) return;
    lastSize = s;
    channel.setWindow(s.rows, s.cols, 0, 0);
  };
  let killedBy: NodeJS.Signals | undefined;
  let kill: () => void = () => undefined;
  const killed = new Promise<void>((resolve) => {
    kill = resolve;
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    killedBy = sig;
    kill();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  if (inv.pty) process.on('SIGWINCH', onResize);
  // A closed stdout (the reader went away) ends the session like a signal would.
  const onOutputError = (): void => onSignal('SIGPIPE');
  io.stdout.on('error', onOutputError);

  channel.pipe(io.stdout, { end: false });
  channel.stderr.pipe(io.stderr, { end: false });
  io.stdin.pipe(channel);
  try {
    const closed = new Promise<void>((resolve) => {
      channel.once('close', () => resolve());
      client.once('close', () => resolve());
    });
    // The hub closed the WebSocket (e.g. the agent went away) and ssh2 read all it delivered: ssh2 ends the channel
    // (and lets the exit status through) only once its socket closes.
    // (ssh2's own destroy() does nothing once its socket's readable side ended.)
    client.once('end', () => sock.destroy());
    await Promise.race([closed, killed]);
    if (killedBy === undefined) {
      // Everything the remote side sent goes out before the exit status does.
      await Promise.allSettled([finished(channel, { writable: false }), finished(channel.stderr)]);
    }
  } finally {
    io.stdin.unpipe(channel);
    io.stdin.pause();
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('SIGWINCH', onResize);
    io.stdout.removeListener('error', onOutputError);
    restoreTerminal();
  }
  if (killedBy !== undefined) {
    if (killedBy !== 'SIGPIPE') note(`Killed by signal ${constants.signals[killedBy]}.`);
    return SSH_FAILURE_STATUS;
  }
  return status;
}
