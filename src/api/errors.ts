// The one error shape of Kedge: a stable `code` (listed with what to do in docs/errors.md) and, where the error
// reaches HTTP, the status to answer with. Each layer names its codes in its own errors file; callers match on
// `code`, never on message text.

export class KedgeError<C extends string = string> extends Error {
  override name = 'KedgeError';
  readonly code: C;
  /** The HTTP status this error answers with when it reaches a client; undefined when it never does. */
  readonly httpStatus: number | undefined;

  constructor(code: C, message: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus;
  }
}

export function isKedgeError(err: unknown, code?: string): err is KedgeError {
  return err instanceof KedgeError && (code === undefined || err.code === code);
}
