// Registration and heartbeat: PATCH …/edges/<edge>/status with the edge's facts (hostname, agent version, local
// Kubernetes version) at start, on every tunnel (re)connect and every interval. The hub stamps lastHeartbeatTime and
// owns phase/connected (so an agent never reports itself Ready: no W21 flapping).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EdgeStatus } from '../api/types.ts';
import type { KubeClient } from '../kube/client.ts';
import { VERSION } from '../version.ts';

export interface HeartbeatOptions {
  /** Client on `…/edges/<edge>`. */
  hub: KubeClient;
  /** The local cluster (for /version); undefined in server mode. */
  local?: KubeClient;
  intervalMs: number;
  logger: Logger;
  onError?: (err: unknown) => void;
}

export type EdgeFacts = Pick<EdgeStatus, 'hostname' | 'agentVersion' | 'kubernetesVersion'>;

export class Heartbeat {
  readonly #opts: HeartbeatOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #kubernetesVersion: string | undefined;
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
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async facts(): Promise<EdgeFacts> {
    if (this.#opts.local !== undefined) {
      try {
        const v = await this.#opts.local.request<{ gitVersion?: string }>('GET', '/version', { timeoutMs: 5_000 });
        if (typeof v?.gitVersion === 'string') this.#kubernetesVersion = v.gitVersion;
      } catch (err) {
        this.#log.debug({ err }, 'local /version failed; reporting the last known version');
      }
    }
    const facts: EdgeFacts = { hostname: hostname(), agentVersion: VERSION };
    if (this.#kubernetesVersion !== undefined) facts.kubernetesVersion = this.#kubernetesVersion;
    return facts;
  }

  /** Sends one heartbeat now (coalesced with one in flight). Never throws. */
  beat(): Promise<void> {
    this.#inFlight ??= this.#beat().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #beat(): Promise<void> {
    try {
      await this.#opts.hub.patch('/status', { status: await this.facts() }, 'merge', { timeoutMs: 15_000 });
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
