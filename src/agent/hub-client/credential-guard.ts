// Decides when the edge credential is revoked. A 401 from any hub call triggers one verification (GET of the Edge)
// after a short delay; a second 401 there is final (docs/agent-protocol.md §6.5) and `onRevoked` fires once.
// A single 401 alone never stops the agent: a hub that is starting up must not make it quit.
import type { Logger } from 'pino';
import { isUnauthorized } from '../../kube/api-error.ts';
import { realClock, type Clock, type TimerHandle } from '../../util/clock.ts';

export interface CredentialGuardOptions {
  /** GET of the Edge with the credential; rejects with an ApiError on HTTP errors. */
  verify: () => Promise<unknown>;
  onRevoked: () => void;
  logger: Logger;
  delayMs?: number;
  /** Tests step time with a FakeClock. */
  clock?: Clock;
}

export class CredentialGuard {
  readonly #opts: CredentialGuardOptions;
  #checking = false;
  #revoked = false;
  #timer: TimerHandle | undefined;

  constructor(opts: CredentialGuardOptions) {
    this.#opts = opts;
  }

  get revoked(): boolean {
    return this.#revoked;
  }

  /** Something got a 401 from the hub. */
  unauthorized(source: string): void {
    if (this.#checking || this.#revoked) return;
    this.#checking = true;
    this.#opts.logger.warn({ source }, 'the hub answered 401; checking whether the edge credential is still valid');
    this.#timer = (this.#opts.clock ?? realClock).setTimeout(() => void this.#check(), this.#opts.delayMs ?? 2_000);
  }

  /** Reports an error from a hub call: a 401 starts a check, anything else is ignored here. */
  observe(source: string, err: unknown): void {
    if (isUnauthorized(err)) this.unauthorized(source);
  }

  stop(): void {
    if (this.#timer !== undefined) (this.#opts.clock ?? realClock).clearTimeout(this.#timer);
  }

  async #check(): Promise<void> {
    try {
      await this.#opts.verify();
    } catch (err) {
      if (isUnauthorized(err)) {
        this.#revoked = true;
        this.#opts.onRevoked();
        return;
      }
    } finally {
      this.#checking = false;
    }
  }
}
