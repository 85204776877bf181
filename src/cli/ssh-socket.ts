// The byte pipe under `kedge ssh` and `kedge ssh --proxy`: a WebSocket to the hub's …/edges/<name>/ssh carrying the
// raw SSH stream (docs/ssh.md), as a Duplex with backpressure both ways; and what the hub's refusals (HTTP Status
// before the upgrade) and close codes (after it) mean to the user.
import type { Duplex } from 'node:stream';
import { SshCloseCode } from '../api/ssh.ts';
import { apiErrorFromResponse } from '../kube/api-error.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { explainRequestError } from './http.ts';

/** Refusal bodies are small Status objects; more is not read. */
const MAX_REFUSAL_BODY = 64 * 1024;
const HANDSHAKE_TIMEOUT_MS = 30_000;

export interface EdgeSocket {
  stream: Duplex;
  /** Settles once the WebSocket closed, with the close code (1006 when the connection dropped without one). */
  closed: Promise<{ code: number; reason: string }>;
  /** Drops the connection at once. */
  terminate(): void;
}

/** What the hub's HTTP answer to the upgrade means (401/403/404/502 carry a Kubernetes Status). */
export function refusalError(httpStatus: number, body: string, edge: string): CLIError {
  const message = apiErrorFromResponse(httpStatus, body, 'GET', '').status?.message ?? body.trim().slice(0, 200);
  const said = message ? `: ${message}` : '';
  switch (httpStatus) {
    case 401:
      return new CLIError(
        CLIErrorCode.Unauthorized,
        "the hub did not accept your credentials: run 'kedge login' again",
      );
    case 403:
      return new CLIError(
        CLIErrorCode.Forbidden,
        `not allowed to SSH to edge ${edge}${said} (SSH needs 'create' on edges/ssh in your workspace: ask its owner)`,
      );
    case 404:
      return new CLIError(CLIErrorCode.NotFound, `edge ${edge} not found by the hub${said}`);
    case 502:
    case 503:
      return new CLIError(
        CLIErrorCode.EdgeNotConnected,
        `edge ${edge} is not connected${said} (is its agent running? 'kedge edge get ${edge}')`,
      );
    default:
      return new CLIError(CLIErrorCode.Rejected, `the hub answered ${httpStatus}${said}`);
  }
}

/** The error a close code stands for; undefined for a normal end (sshd closed the connection). */
export function closeError(code: number, reason: string, edge: string): CLIError | undefined {
  const why = reason ? ` (${reason})` : '';
  switch (code) {
    case SshCloseCode.Normal:
      return undefined;
    case SshCloseCode.GoingAway:
      return new CLIError(CLIErrorCode.SshConnectionLost, `the hub is shutting down: connection to ${edge} closed`);
    case SshCloseCode.EdgeDisconnected:
      return new CLIError(
        CLIErrorCode.SshConnectionLost,
        `connection to ${edge} lost: the edge's agent disconnected from the hub${why}`,
      );
    case SshCloseCode.EdgeReset:
      return new CLIError(
        CLIErrorCode.SshConnectionLost,
        `connection to ${edge} reset by the edge: its agent could not reach sshd or that connection failed${why}`,
      );
    case 1006:
      return new CLIError(CLIErrorCode.SshConnectionLost, `connection to ${edge} lost: the hub connection dropped`);
    default:
      return new CLIError(
        CLIErrorCode.SshConnectionLost,
        `the hub closed the connection to ${edge} (code ${code})${why}`,
      );
  }
}

/**
 * Opens the WebSocket and resolves once it is upgraded. `authorization` is the Authorization header value (the
 * token never goes into the URL); TLS follows the kubeconfig context.
 */
export async function openEdgeSocket(
  url: string,
  edge: string,
  authorization: string | undefined,
  tls: Pick<KubeClientOptions, 'ca' | 'insecureSkipTLSVerify' | 'clientCert' | 'clientKey' | 'tlsServerName'>,
): Promise<EdgeSocket> {
  // Loaded here, so commands without SSH do not pay for it; ws-mask first (it must precede ws, see that file).
  await import('../util/ws-mask.ts');
  const { WebSocket, createWebSocketStream } = await import('ws');
  const wsURL = url.replace(/^http/, 'ws');
  const ws = new WebSocket(wsURL, {
    headers: authorization ? { Authorization: authorization } : {},
    perMessageDeflate: false, // the SSH stream is encrypted: compression only costs CPU
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    followRedirects: false,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.clientCert !== undefined ? { cert: tls.clientCert } : {}),
    ...(tls.clientKey !== undefined ? { key: tls.clientKey } : {}),
    ...(tls.tlsServerName !== undefined ? { servername: tls.tlsServerName } : {}),
    rejectUnauthorized: tls.insecureSkipTLSVerify !== true,
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  return new Promise<EdgeSocket>((resolve, reject) => {
    let settled = false;
    const fail = (err: CLIError): void => {
      if (settled) return;
      settled = true;
      reject(err);
      ws.terminate();
    };
    ws.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_REFUSAL_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => fail(refusalError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), edge)));
      res.on('error', () => fail(refusalError(res.statusCode ?? 0, '', edge)));
      req.on('error', () => undefined); // destroyed by fail(); the refusal is the error that counts
    });
    ws.on('error', (err) => fail(explainRequestError(err, new URL(url).origin)));
    ws.once('open', () => {
      settled = true;
      // Created synchronously on 'open' so no message can arrive before the stream listens.
      const stream = createWebSocketStream(ws);
      // The close code tells what happened; a stream error (e.g. the socket reset) only ends the pipe.
      stream.on('error', () => undefined);
      resolve({ stream, closed, terminate: () => ws.terminate() });
    });
  });
}
