// The users' SSH endpoint `…/edges/<edge>/ssh` after authorisation (edges-proxy.ts resolved user, SAR and session):
// one `ssh` tunnel stream per WebSocket, raw bytes both ways, never read (docs/ssh.md). SSH runs end to end between
// the user's client and the host's sshd; the hub holds no SSH credential and sees only ciphertext. The hub pings the
// WebSocket (SSH_KEEPALIVE_MS) so idle sessions survive proxies with idle timeouts, and audits every session.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { SSH_KEEPALIVE_MS, SshCloseCode } from '../../api/ssh.ts';
import { StreamKind, type TunnelSession, type TunnelStream } from '../../tunnel/index.ts';
import type { UserInfo } from '../auth/identity.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus, writeSocketStatus } from '../server/status.ts';
import type { SshSessionRecord, SshEnd } from './ssh-audit.ts';

/** Bytes queued towards the client above which the edge stream is paused until the socket drains below LOW. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** After the client closed, how long the edge gets to end its side before the stream is reset. */
const END_GRACE_MS = 5_000;

export interface SshRelayOptions {
  log: Logger;
  keepAliveMs?: number;
  maxMessageBytes?: number;
  /** Called once per session when it ends (audit log line, Event, metrics). */
  onEnd?: (record: SshSessionRecord) => void;
  onStart?: () => void;
}

export interface SshTarget {
  cluster: string;
  edge: string;
  user: UserInfo;
  session: TunnelSession;
}

export class SshRelay {
  readonly #opts: SshRelayOptions;
  readonly #wss: WebSocketServer;
  readonly #live = new Set<WebSocket>();
  #stopping = false;

  constructor(opts: SshRelayOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: opts.maxMessageBytes ?? 1024 * 1024,
    });
  }

  get open(): number {
    return this.#live.size;
  }

  /** A plain (non-upgrade) request to …/ssh. */
  request(_req: IncomingMessage, res: ServerResponse): void {
    sendStatus(res, 400, '…/ssh needs a WebSocket upgrade: use kedge ssh, or kedge ssh --proxy as ProxyCommand');
  }

  async upgrade(target: SshTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.#stopping) return writeSocketStatus(socket, 503, 'the hub is shutting down');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return writeSocketStatus(socket, 400, '…/ssh accepts WebSocket upgrades only');
    let stream: TunnelStream;
    try {
      // Opened before the 101, so an edge that just went away is a 502 the client can read, not a closed socket.
      stream = await target.session.openStream({ kind: StreamKind.Ssh });
    } catch {
      return writeSocketStatus(socket, 502, `edge ${target.edge} is not connected`, HubErrorCode.EdgeNotConnected);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#relay(target, ws, stream));
  }

  /** Closes every session with 1001 (the hub is stopping). */
  stop(): void {
    this.#stopping = true;
    for (const ws of this.#live) ws.close(SshCloseCode.GoingAway, 'the hub is shutting down');
  }

  #relay(target: SshTarget, ws: WebSocket, stream: TunnelStream): void {
    const started = new Date();
    const record: SshSessionRecord = {
      user: target.user.username,
      cluster: target.cluster,
      edge: target.edge,
      started,
      bytesToEdge: 0,
      bytesToClient: 0,
      ended: 'client_closed',
    };
    this.#live.add(ws);
    this.#opts.onStart?.();
    const log = this.#opts.log;
    log.info({ cluster: target.cluster, edge: target.edge, user: target.user.username }, 'ssh session started');
    let finished = false;
    const finish = (ended: SshEnd, code: number, reason: string): void => {
      if (finished) return;
      finished = true;
      clearInterval(pinger);
      this.#live.delete(ws);
      record.ended = this.#stopping && ended === 'client_closed' ? 'hub_stopping' : ended;
      record.endedAt = new Date();
      if (ended === 'client_closed') {
        stream.end(); // FIN: the agent closes its sshd connection
        setTimeout(() => stream.destroy(), END_GRACE_MS).unref();
      } else {
        stream.destroy();
      }
      // A client that stopped answering pings gets no close handshake it would not complete either.
      if (ws.readyState === ws.OPEN && ended !== 'keepalive_timeout') ws.close(code, reason);
      else ws.terminate();
      this.#opts.onEnd?.(record);
    };

    // Client → edge: a full stream buffer pauses the socket (ws reads no more) until the stream drains.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return finish('protocol_error', 1003, 'binary messages only');
      record.bytesToEdge += data.length;
      if (!stream.write(data)) {
        ws.pause();
        stream.once('drain', () => ws.resume());
      }
    });
    // Edge → client: pause the stream while the socket has more than HIGH_WATER queued.
    let paused = false;
    stream.on('data', (chunk: Buffer) => {
      record.bytesToClient += chunk.length;
      ws.send(chunk, { binary: true }, () => {
        if (paused && ws.bufferedAmount < LOW_WATER) {
          paused = false;
          stream.resume();
        }
      });
      if (ws.bufferedAmount > HIGH_WATER) {
        paused = true;
        stream.pause();
      }
    });
    stream.on('end', () => finish('sshd_closed', SshCloseCode.Normal, 'the SSH server closed the connection'));
    stream.on('close', () => {
      if (target.session.closed)
        finish('edge_disconnected', SshCloseCode.EdgeDisconnected, `the agent of edge ${target.edge} disconnected`);
      else finish('edge_reset', SshCloseCode.EdgeReset, `edge ${target.edge} reset the connection (is sshd running?)`);
    });
    stream.on('error', () => {}); // 'close' follows and says why
    ws.on('close', () => finish('client_closed', SshCloseCode.Normal, ''));
    ws.on('error', () => finish('protocol_error', 1002, 'protocol error'));

    // Keepalive: a ping every interval; no pong since the previous ping → the client is gone.
    let alive = true;
    ws.on('pong', () => (alive = true));
    const pinger = setInterval(() => {
      if (!alive) return finish('keepalive_timeout', 1001, 'no pong from the client');
      alive = false;
      ws.ping();
    }, this.#opts.keepAliveMs ?? SSH_KEEPALIVE_MS);
    pinger.unref();
  }
}
