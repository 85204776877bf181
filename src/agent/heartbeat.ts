// Registration and heartbeat: PATCH …/edges/<edge>/status with the edge's facts at start, on every tunnel
// (re)connect, every interval, and whenever a mode says its facts changed (server mode: a new host-key scan). What the
// facts are is the mode's business (a FactsProvider). The hub stamps lastHeartbeatTime and owns phase/connected (so
// an agent never reports itself Ready: no W21 flapping).
import type { Logger } from 'pino';
import type { EdgeStatus } from '../api/types.ts';
import type { KubeClient } from '../kube/client.ts';

/** The agent-owned fields of Edge.status. */
export type EdgeFacts = Pick<
  EdgeStatus,
  'hostname' | 'agentVersion' | 'kubernetesVersion' | 'os' | 'kernelVersion' | 'architecture' | 'observedSSHHostKeys'
>;

/** The facts to report now; must not throw (report the last known values instead). */
export type FactsProvider = () => EdgeFacts | Promise<EdgeFacts>;

export interface HeartbeatOptions {
  /** Client on `…/edges/<edge>`. */
  hub: KubeClient;
  facts: FactsProvider;
  intervalMs: number;
  logger: Logger;
  onError?: (err: unknown) => void;
}

export class Heartbeat {
  readonly #opts: HeartbeatOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastOK = false;
  beats = 0;
  failures = 0;

  constructor(opts: HeartbeatOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'heartbeat' });
  }

  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#opts.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Sends one heartbeat now. Never throws. While one is in flight its facts may already be stale (they were read
   * before the call), so one more follows it; any number of calls meanwhile coalesce into that one.
   */
  beat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#inFlight !== undefined) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = this.#beat().finally(() => {
      this.#inFlight = undefined;
      if (this.#again) {
        this.#again = false;
        void this.beat();
      }
    });
    return this.#inFlight;
  }

  async #beat(): Promise<void> {
    try {
      const facts = await this.#opts.facts();
      await this.#opts.hub.patch('/status', { status: facts }, 'merge', { timeoutMs: 15_000 });
      this.beats++;
      if (!this.#lastOK) this.#log.info('heartbeat accepted by the hub');
      this.#lastOK = true;
    } catch (err) {
      this.failures++;
      if (this.#lastOK || this.failures === 1)
        this.#log.warn({ err }, 'heartbeat failed; retrying at the next interval');
      this.#lastOK = false;
      this.#opts.onError?.(err);
    }
  }
}
