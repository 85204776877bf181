// Hub side: at most one live tunnel session per edge, keyed `<cluster>|<edgeName>`. A newer session replaces (and
// closes) the older one; a closing session deregisters only itself, so a late close never unregisters its successor.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { TunnelError, TunnelErrorCode } from './errors.ts';

/** What the registry needs from a session (TunnelSession satisfies it; tests may pass a fake). */
export interface RegistrableSession {
  readonly closed: boolean;
  close(reason?: TunnelError): Promise<void> | void;
  once(event: 'close', listener: (reason: TunnelError | undefined) => void): unknown;
}

export interface RegistryEvents<S> {
  /** `key` now has `session`; `replaced` is the session it displaced, if any (the edge stayed connected). */
  connect: [key: string, session: S, replaced: S | undefined];
  /** `key` has no session any more: its registered session closed or was deregistered. */
  disconnect: [key: string, session: S, reason: TunnelError | undefined];
}

export class SessionRegistry<S extends RegistrableSession> extends EventEmitter<RegistryEvents<S>> {
  readonly #sessions = new Map<string, S>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    super();
    this.#logger = logger.child({ component: 'tunnel-registry' });
  }

  /**
   * Makes `session` the one for `key`. An existing different session is closed with SESSION_REPLACED. When `session`
   * closes later it is deregistered automatically. A session that is already closed is not registered.
   */
  register(key: string, session: S): void {
    if (session.closed) return;
    const previous = this.#sessions.get(key);
    if (previous === session) return;
    this.#sessions.set(key, session);
    session.once('close', (reason) => this.#deregister(key, session, reason));
    this.#logger.info({ key, replaced: previous !== undefined }, 'edge tunnel connected');
    this.emit('connect', key, session, previous);
    if (previous !== undefined) {
      void previous.close(new TunnelError(TunnelErrorCode.SessionReplaced, `replaced by a newer session for ${key}`));
    }
  }

  /** Removes `session` if it is still the one registered for `key`; returns whether it was. Does not close it. */
  deregister(key: string, session: S): boolean {
    return this.#deregister(key, session, undefined);
  }

  get(key: string): S | undefined {
    return this.#sessions.get(key);
  }

  keys(): string[] {
    return [...this.#sessions.keys()];
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Closes every registered session (hub shutdown). */
  async closeAll(reason?: TunnelError): Promise<void> {
    await Promise.all(
      [...this.#sessions.values()].map(async (s) => {
        await s.close(reason);
      }),
    );
  }

  #deregister(key: string, session: S, reason: TunnelError | undefined): boolean {
    if (this.#sessions.get(key) !== session) return false;
    this.#sessions.delete(key);
    this.#logger.info({ key, code: reason?.code }, 'edge tunnel disconnected');
    this.emit('disconnect', key, session, reason);
    return true;
  }
}
