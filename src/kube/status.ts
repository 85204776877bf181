// Kubernetes `Status` objects: the error body every Kedge HTTP endpoint (hub and agent) answers with, and the
// StatusReason the API server uses for each HTTP code (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason).
import type { StatusBody } from './types.ts';

// Not `import { STATUS_CODES } from 'node:http'`: an ES import of node:http evaluates every export of it, and its
// WebSocket getters load Node's bundled undici (~8 MB RSS in a server-mode agent, which never uses either).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  431: 'RequestHeaderFieldsTooLarge',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The StatusReason for an HTTP code; `Unknown` for codes the API server has no reason for. */
export function statusReason(code: number): string {
  return REASONS[code] ?? 'Unknown';
}

/**
 * A failure `Status`. `kedgeCode` (a code from docs/errors.md) travels as the first cause's `type`, where kubectl
 * ignores it and scripts can match on it.
 */
export function failureStatus(
  code: number,
  message: string,
  opts: { reason?: string; kedgeCode?: string } = {},
): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message,
    reason: opts.reason ?? statusReason(code),
    code,
    ...(opts.kedgeCode === undefined ? {} : { details: { causes: [{ type: opts.kedgeCode, message }] } }),
  };
}

export function statusBody(code: number, message: string, opts: { reason?: string; kedgeCode?: string } = {}): string {
  return JSON.stringify({ ...failureStatus(code, message, opts), metadata: {} });
}

/**
 * A whole HTTP/1.1 response carrying `body` (a statusBody) and closing the connection: the answer to an upgrade
 * request refused on a raw socket, where there is no ServerResponse to write it.
 */
export function rawStatusResponse(code: number, body: string): string {
  return (
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
