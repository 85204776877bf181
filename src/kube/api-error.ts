// Typed failures of the Kubernetes/kcp API: `ApiError` carries the HTTP code, the Status `reason` and the parsed
// Status body. Callers branch on `code`/`reason` through the predicates below, never on message text.
import { statusReason } from './status.ts';
import type { StatusBody } from './types.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status code (or the `code` of a watch `ERROR` event). */
  readonly code: number;
  /** Status `reason` (e.g. `NotFound`, `AlreadyExists`, `Expired`), or the default reason for `code`. */
  readonly reason: string;
  /** The parsed Status body when the server sent one. */
  readonly status: StatusBody | undefined;
  readonly method: string;
  readonly path: string;

  constructor(init: {
    code: number;
    reason?: string;
    message?: string;
    status?: StatusBody;
    method?: string;
    path?: string;
  }) {
    const reason = init.reason || statusReason(init.code);
    const what = init.method ? `${init.method} ${init.path ?? ''}: ` : '';
    super(`${what}${init.code} ${reason}${init.message ? `: ${init.message}` : ''}`);
    this.code = init.code;
    this.reason = reason;
    this.status = init.status;
    this.method = init.method ?? '';
    this.path = init.path ?? '';
  }

  /** Seconds the server asked the client to wait (Status `details.retryAfterSeconds`), if any. */
  get retryAfterSeconds(): number | undefined {
    return this.status?.details?.retryAfterSeconds;
  }
}

/**
 * Builds an ApiError from an HTTP failure body. A JSON `Status` supplies reason and message; any other body is
 * kept out of the message beyond a short prefix, since proxies may echo request details.
 */
export function apiErrorFromResponse(code: number, bodyText: string, method: string, path: string): ApiError {
  let status: StatusBody | undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (isStatusBody(parsed)) status = parsed;
  } catch {
    // Not JSON: fall through to the plain-text form below.
  }
  if (status) return new ApiError({ code, reason: status.reason, message: status.message, status, method, path });
  const text = bodyText.trim().slice(0, 200);
  return new ApiError({ code, message: text, method, path });
}

/** Builds an ApiError from the Status carried by a watch `ERROR` event. */
export function apiErrorFromStatus(status: StatusBody, method = 'WATCH', path = ''): ApiError {
  return new ApiError({
    code: status.code ?? 500,
    reason: status.reason,
    message: status.message,
    status,
    method,
    path,
  });
}

export function isStatusBody(v: unknown): v is StatusBody {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}

/** An optimistic-concurrency conflict (stale resourceVersion), not an `AlreadyExists`. */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason !== 'AlreadyExists';
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
}

/** 410: the resourceVersion (or continue token) is too old; the caller must relist. */
export function isGone(e: unknown): boolean {
  return e instanceof ApiError && e.code === 410;
}

export function isForbidden(e: unknown): boolean {
  return e instanceof ApiError && e.code === 403;
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.code === 401;
}

export function isInvalid(e: unknown): boolean {
  return e instanceof ApiError && e.code === 422;
}

/**
 * The Node/undici error code of a transport failure (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT…), looked up along
 * the `cause` chain (undici wraps the socket error); undefined when there is none.
 */
export function transportCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  return undefined;
}
