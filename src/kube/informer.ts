// List/watch informer over one resource path, cached by cluster key so objects from different kcp workspaces never
// collide (src/kube/README.md). Loop: LIST (paged) → WATCH from the list's resourceVersion with bookmarks → on 410 relist and
// diff the cache; on any other end re-watch from the last resourceVersion, with backoff unless the watch was healthy.
import type { Logger } from 'pino';
import { apiErrorFromStatus, isGone, isNotFound } from './api-error.ts';
import { backoffDelay, backoffPolicy } from '../util/backoff.ts';
import type { BackoffPolicy } from '../util/backoff.ts';
import type { KubeClient, Query } from './client.ts';
import { realClock, sleep } from '../util/clock.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { clusterKey } from './cluster-key.ts';
import { Store } from './store.ts';
import type { IndexFunc, StoreReader } from './store.ts';
import type { KubeObject, WatchEvent } from './types.ts';
import { KedgeError } from '../api/errors.ts';

export type InformerOptions<T extends KubeObject = KubeObject> = {
  client: KubeClient;
  // Collection path relative to the client's base URL, e.g. `/clusters/*/apis/kedge.faros.sh/v1alpha1/edges` on a
  // virtual workspace (wildcard over all bound workspaces) or `/api/v1/namespaces/x/configmaps`.
  path: string;
  logger: Logger;
  labelSelector?: string;
  fieldSelector?: string;
  clock?: Clock;
  random?: () => number;
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Server-side watch timeout; each watch asks for 1–1.25× this (default 300 s). */
  watchTimeoutSeconds?: number;
  /** A watch that delivers nothing (not even a bookmark) for this long is aborted and restarted (default 120 s). */
  watchdogMs?: number;
  /** A watch that lasted this long, or delivered an event, counts as a success and resets the backoff (default 10 s). */
  healthyWatchMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** resourceVersion for the FIRST watch instead of the list's (tests: an expired one provokes a 410). */
  watchResourceVersion?: string;
  /**
   * Rewrites every listed or watched object before it is cached and handed to handlers, to keep only what the
   * readers use (`stripMetadata`). Pure: it must not mutate its argument, and must keep the name, namespace,
   * resourceVersion, uid, labels and the kcp cluster annotation. A cached object written back with PUT loses what
   * this dropped, except `managedFields` (the API server keeps the stored ones when a request has none).
   */
  transform?: (obj: T) => T;
  /**
   * For this long after `start()`, a 404 on LIST before the first sync logs at debug instead of warn (an APIExport
   * virtual workspace answers 404 until its export is served). Default 0.
   */
  notFoundGraceMs?: number;
};

/** kubectl's client-side apply copy of the whole object: large, and nothing in Kedge reads it. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * An informer `transform` that drops `metadata.managedFields` and the named annotations, sharing everything else
 * with its input (never mutated). An object without any of them is returned as is.
 */
export function stripMetadata<T extends KubeObject>(dropAnnotations: readonly string[] = []): (obj: T) => T {
  return (obj) => {
    const meta = obj.metadata;
    const annotations = meta.annotations;
    const drop = annotations === undefined ? [] : dropAnnotations.filter((k) => Object.hasOwn(annotations, k));
    if (meta.managedFields === undefined && drop.length === 0) return obj;
    const { managedFields: _managedFields, ...rest } = meta;
    const metadata: KubeObject['metadata'] = rest;
    if (annotations !== undefined && drop.length > 0) {
      const kept = { ...annotations };
      for (const k of drop) delete kept[k];
      metadata.annotations = kept;
    }
    return { ...obj, metadata };
  };
}

/** Counters for tests and metrics; they only grow. */
export type InformerStats = {
  lists: number;
  /** LISTs after the first (after a 410 or a failed list). */
  relists: number;
  watches: number;
  /** Watches re-opened from the last resourceVersion without a relist. */
  watchRestarts: number;
  watchdogAborts: number;
  bookmarks: number;
  /** Failed lists/watches (HTTP error, connection error, ERROR event, unhealthy close). */
  failures: number;
};

export class InformerStoppedError extends KedgeError<'KEDGE_KUBE_INFORMER_STOPPED'> {
  override name = 'InformerStoppedError';
  constructor(message: string) {
    super('KEDGE_KUBE_INFORMER_STOPPED', message);
  }
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;

type WatchEnd = 'closed' | 'gone' | 'watchdog' | 'error';

/** Floor of the delay after a failed list/watch, whatever the backoff policy says. */
export const MIN_FAILURE_DELAY_MS = 50;

export class Informer<T extends KubeObject = KubeObject> implements StoreReader<T> {
  readonly stats: InformerStats = {
    lists: 0,
    relists: 0,
    watches: 0,
    watchRestarts: 0,
    watchdogAborts: 0,
    bookmarks: 0,
    failures: 0,
  };
  readonly #opts: InformerOptions<T>;
  readonly #transform: (obj: T) => T;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #log: Logger;
  readonly #store = new Store<T>();
  readonly #stop = new AbortController();
  readonly #addHandlers = new Set<AddHandler<T>>();
  readonly #updateHandlers = new Set<UpdateHandler<T>>();
  readonly #deleteHandlers = new Set<DeleteHandler<T>>();
  readonly #syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #rv = '';
  #synced = false;
  #running: Promise<void> | undefined;
  #startedAt = 0;

  constructor(opts: InformerOptions<T>) {
    this.#opts = opts;
    this.#transform = opts.transform ?? ((obj) => obj);
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#backoff = backoffPolicy(opts.backoff);
    this.#log = opts.logger.child({ resource: opts.path });
  }

  get relists(): number {
    return this.stats.relists;
  }

  get watchRestarts(): number {
    return this.stats.watchRestarts;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string {
    return this.#rv;
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Starts the loop once; it runs until `stop()` and never gives up on errors. */
  start(): void {
    if (this.#running !== undefined || this.stopped) return;
    this.#startedAt = this.#clock.now();
    this.#running = this.#run().catch((e: unknown) => {
      // #run handles every error itself; reaching this is a bug worth a loud line, not a silent stop.
      this.#log.error({ err: e }, 'informer loop crashed');
    });
  }

  /** Stops the loop and aborts the request in flight; resolves when the loop has exited. No restart follows. */
  async stop(): Promise<void> {
    if (!this.stopped) this.#stop.abort(new InformerStoppedError('informer stopped'));
    for (const w of this.#syncWaiters.splice(0)) w.reject(new InformerStoppedError('informer stopped before sync'));
    await this.#running;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first complete LIST has been applied; rejects if the informer stops first. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new InformerStoppedError('informer stopped before sync'));
    return new Promise((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
  }

  // --- cache ---------------------------------------------------------------------------------------------------

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return this.#store.list();
  }

  keys(): string[] {
    return this.#store.keys();
  }

  get size(): number {
    return this.#store.size;
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#store.addIndex(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.#store.byIndex(name, value);
  }

  indexKeys(name: string, value: string): string[] {
    return this.#store.indexKeys(name, value);
  }

  // --- handlers: called synchronously after the cache changed; objects are shared, never mutate them -------------

  /** Registers an add handler and replays the objects already cached to it. Returns an unsubscribe function. */
  onAdd(fn: AddHandler<T>): () => void {
    this.#addHandlers.add(fn);
    for (const obj of this.#store.list()) this.#call(() => fn(obj));
    return () => this.#addHandlers.delete(fn);
  }

  onUpdate(fn: UpdateHandler<T>): () => void {
    this.#updateHandlers.add(fn);
    return () => this.#updateHandlers.delete(fn);
  }

  onDelete(fn: DeleteHandler<T>): () => void {
    this.#deleteHandlers.add(fn);
    return () => this.#deleteHandlers.delete(fn);
  }

  // --- loop ----------------------------------------------------------------------------------------------------

  async #run(): Promise<void> {
    let needList = true;
    let watchesSinceList = 0;
    let failures = 0;
    while (!this.stopped) {
      let healthy = false;
      try {
        if (needList) {
          await this.#listAndReplace();
          needList = false;
          watchesSinceList = 0;
        }
        const rv =
          watchesSinceList === 0 && this.stats.lists === 1 ? (this.#opts.watchResourceVersion ?? this.#rv) : this.#rv;
        if (watchesSinceList > 0) this.stats.watchRestarts++;
        watchesSinceList++;
        const result = await this.#watchOnce(rv);
        healthy = result.healthy;
        if (result.end === 'gone') needList = true;
        if (result.end === 'error' || !healthy)
          this.#log.debug({ end: result.end, healthy, rv: this.#rv }, 'watch ended');
      } catch (e) {
        if (this.stopped) break;
        if (isGone(e)) needList = true;
        const level = this.#notServedYet(e) ? 'debug' : 'warn';
        this.#log[level](
          { err: e, rv: this.#rv, failures: failures + 1 },
          needList ? 'list/watch failed; will relist' : 'watch failed; will re-watch',
        );
      }
      if (this.stopped) break;
      if (healthy) failures = 0;
      else {
        failures++;
        this.stats.failures++;
      }
      // A failure always waits on a real timer: requests on a closed client (or with a NaN/0 policy) reject within
      // microtasks, and a loop retrying them without a timer starves the event loop while its Errors and log lines
      // pile up (an OOM-killed test run).
      const delay = healthy ? 0 : Math.max(MIN_FAILURE_DELAY_MS, backoffDelay(failures, this.#backoff, this.#random));
      if (delay > 0) {
        try {
          await sleep(this.#clock, delay, this.#stop.signal);
        } catch {
          break; // stopped while waiting
        }
      }
    }
  }

  /** A 404 before the first sync, within `notFoundGraceMs` of the start: the resource is not served yet. */
  #notServedYet(err: unknown): boolean {
    const grace = this.#opts.notFoundGraceMs ?? 0;
    return !this.#synced && isNotFound(err) && this.#clock.now() - this.#startedAt < grace;
  }

  async #listAndReplace(): Promise<void> {
    this.stats.lists++;
    if (this.stats.lists > 1) this.stats.relists++;
    const { items, resourceVersion } = await this.#opts.client.listAll<T>(this.#opts.path, this.#selectors(), {
      limit: this.#opts.pageSize ?? 500,
      signal: this.#stop.signal,
    });
    if (this.stopped) return;
    this.#replace(items.map(this.#transform));
    this.#rv = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w.resolve();
    }
    this.#log.debug({ count: items.length, rv: resourceVersion, lists: this.stats.lists }, 'listed');
  }

  /** Makes the cache equal to `items`, emitting delete for vanished keys, add for new ones, update for changed RVs. */
  #replace(items: T[]): void {
    const fresh = new Map<string, T>();
    for (const obj of items) fresh.set(clusterKey(obj), obj);
    for (const key of this.#store.keys()) {
      if (fresh.has(key)) continue;
      const old = this.#store.remove(key);
      if (old !== undefined) this.#emitDelete(old);
    }
    for (const [key, obj] of fresh) {
      const old = this.#store.upsert(key, obj);
      if (old === undefined) this.#emitAdd(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emitUpdate(old, obj);
    }
  }

  /** One watch request. Throws on HTTP/connection errors before the stream; otherwise says how the stream ended. */
  async #watchOnce(rv: string): Promise<{ end: WatchEnd; healthy: boolean }> {
    this.stats.watches++;
    const ac = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, ac.signal]);
    const base = this.#opts.watchTimeoutSeconds ?? 300;
    const query: Query = {
      ...this.#selectors(),
      allowWatchBookmarks: 'true',
      resourceVersion: rv || undefined,
      timeoutSeconds: Math.round(base * (1 + 0.25 * this.#random())),
    };
    const started = this.#clock.now();
    const watchdogMs = this.#opts.watchdogMs ?? 120_000;
    let watchdogFired = false;
    let timer: TimerHandle | undefined;
    const arm = (): void => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      timer = this.#clock.setTimeout(() => {
        watchdogFired = true;
        ac.abort(new Error('watch watchdog: no event'));
      }, watchdogMs);
    };
    let delivered = false;
    const healthy = (): boolean => delivered || this.#clock.now() - started >= (this.#opts.healthyWatchMs ?? 10_000);
    arm();
    try {
      const events = await this.#opts.client.stream<T>(this.#opts.path, query, signal);
      for await (const event of events) {
        arm();
        if (event.type === 'ERROR') {
          const err = apiErrorFromStatus(event.object, 'WATCH', this.#opts.path);
          if (isGone(err)) {
            this.#log.info({ rv: this.#rv }, 'watch expired (410); relisting');
            return { end: 'gone', healthy: healthy() };
          }
          this.#log.warn({ err }, 'watch ERROR event');
          return { end: 'error', healthy: false };
        }
        delivered = true;
        this.#apply(event);
      }
      return { end: 'closed', healthy: healthy() };
    } catch (e) {
      if (this.stopped) throw e;
      if (watchdogFired) {
        this.stats.watchdogAborts++;
        this.#log.info({ watchdogMs, rv: this.#rv }, 'watch silent too long; restarting');
        return { end: 'watchdog', healthy: healthy() };
      }
      if (isGone(e)) throw e;
      this.#log.warn({ err: e, rv: this.#rv }, 'watch broke');
      return { end: 'error', healthy: healthy() };
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      ac.abort();
    }
  }

  /** Applies an ADDED/MODIFIED/DELETED/BOOKMARK event (ERROR is handled by the caller). */
  #apply(event: WatchEvent<T>): void {
    const rv = (event.object as KubeObject).metadata?.resourceVersion;
    switch (event.type) {
      case 'BOOKMARK':
        this.stats.bookmarks++;
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const obj = this.#transform(event.object);
        const old = this.#store.upsert(clusterKey(obj), obj);
        if (old === undefined) this.#emitAdd(obj);
        else this.#emitUpdate(old, obj);
        break;
      }
      case 'DELETED': {
        const obj = this.#transform(event.object);
        const old = this.#store.remove(clusterKey(obj));
        if (old !== undefined) this.#emitDelete(obj);
        break;
      }
      default:
        this.#log.warn({ type: (event as { type: unknown }).type }, 'unknown watch event type ignored');
        return;
    }
    if (rv) this.#rv = rv;
  }

  #selectors(): Query {
    return { labelSelector: this.#opts.labelSelector, fieldSelector: this.#opts.fieldSelector };
  }

  #emitAdd(obj: T): void {
    for (const fn of this.#addHandlers) this.#call(() => fn(obj));
  }

  #emitUpdate(oldObj: T, newObj: T): void {
    for (const fn of this.#updateHandlers) this.#call(() => fn(oldObj, newObj));
  }

  #emitDelete(obj: T): void {
    for (const fn of this.#deleteHandlers) this.#call(() => fn(obj));
  }

  /** A throwing handler must not break the watch or starve the other handlers. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log.error({ err: e }, 'informer handler threw');
    }
  }
}
