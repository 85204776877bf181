import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { KubeClient } from './client.ts';
import { backoffDelay, backoffPolicy, defaultBackoff } from '../util/backoff.ts';
import { FakeClock, realClock } from '../util/clock.ts';
import { CLUSTER_ANNOTATION, joinKey } from './cluster-key.ts';
import {
  Informer,
  InformerStoppedError,
  LAST_APPLIED_ANNOTATION,
  MIN_FAILURE_DELAY_MS,
  stripMetadata,
} from './informer.ts';
import type { InformerOptions } from './informer.ts';
import { ListWatchServer } from './testing/list-watch-server.ts';
import type { KubeObject } from './types.ts';

const PATH = '/clusters/*/apis/kedge.faros.sh/v1alpha1/edges';
const logger = pino({ level: 'silent' });

function edge(cluster: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return { metadata: { name, labels, annotations: { [CLUSTER_ANNOTATION]: cluster } } };
}

/** Polls (real time) until `cond` holds; the informer's own timers run on the fake clock. */
async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** True while the informer sleeps in a backoff (its watchdog timers are far longer than any backoff here). */
const inBackoff = (): boolean => (clock.nextDelay() ?? Infinity) < 100_000;

/** Like `until`, but fast-forwards every backoff the informer enters meanwhile. */
async function drive(cond: () => boolean, what: string): Promise<void> {
  await until(() => {
    if (cond()) return true;
    if (inBackoff()) clock.advance(clock.nextDelay() ?? 0);
    return false;
  }, what);
}

let server: ListWatchServer;
let client: KubeClient;
let clock: FakeClock;
let informers: Informer[] = [];
let events: string[];

beforeEach(async () => {
  server = new ListWatchServer();
  client = new KubeClient({ server: `${await server.start()}/services/apiexport/lc/kedge.faros.sh` });
  clock = new FakeClock();
  events = [];
});

afterEach(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  informers = [];
  await client.close();
  await server.close();
});

function informer(opts: Partial<InformerOptions> = {}): Informer {
  const inf = new Informer({ client, path: PATH, logger, clock, random: () => 0, pageSize: 2, ...opts });
  inf.onAdd((o) => events.push(`add ${key(o)}@${o.metadata.resourceVersion}`));
  inf.onUpdate((a, b) => events.push(`update ${key(b)}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`));
  inf.onDelete((o) => events.push(`delete ${key(o)}`));
  informers.push(inf);
  return inf;
}

const key = (o: KubeObject) =>
  joinKey({
    cluster: o.metadata.annotations?.[CLUSTER_ANNOTATION] ?? '',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
  });

describe('Informer', () => {
  it('lists every page, syncs, then watches from the list RV with bookmarks and a jittered timeout', async () => {
    for (const n of ['e1', 'e2', 'e3']) server.put(edge('root:a', n));
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(inf.keys().sort()).toEqual(['root:a|/e1', 'root:a|/e2', 'root:a|/e3']);
    expect(server.count('list')).toBe(2); // pageSize 2 → two pages
    const w = await server.nextWatch(0);
    expect(Object.fromEntries(w.query)).toEqual({
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: '103',
      timeoutSeconds: '300',
    });
    expect(inf.get('root:a|/e1')?.kind).toBe('Edge');
  });

  it('keeps identical names from two workspaces apart, in the store, events and deletes', async () => {
    server.put(edge('root:a', 'edge-1'));
    server.put(edge('root:b', 'edge-1'));
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    await server.nextWatch(0);
    expect(inf.size).toBe(2);
    server.put(edge('root:b', 'edge-1', { x: 'y' }));
    server.remove('root:a|/edge-1');
    await until(() => events.length === 4, 'update and delete');
    expect(events).toEqual([
      'add root:a|/edge-1@101',
      'add root:b|/edge-1@102',
      'update root:b|/edge-1@102->103',
      'delete root:a|/edge-1',
    ]);
    expect(inf.keys()).toEqual(['root:b|/edge-1']);
  });

  it.each([
    ['an HTTP 410 when the watch opens', 'http'],
    ['an ERROR event with code 410', 'event'],
  ])('relists on %s and diffs the store into delete/add/update events', async (_what, form) => {
    server.put(edge('root:a', 'stays'));
    server.put(edge('root:a', 'vanishes'));
    server.put(edge('root:a', 'changes'));
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    events.length = 0;
    // Changes the informer misses while its resourceVersion expires:
    server.remove('root:a|/vanishes', { silent: true });
    server.put(edge('root:a', 'changes', { v: '2' }), { silent: true });
    server.put(edge('root:b', 'new'), { silent: true });
    if (form === 'http') {
      server.watchFailures.push(410);
      w.end();
    } else {
      w.send({
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
      });
    }
    // The watch delivered no event before the 410, so the relist comes after a backoff (no hot loop on a bad RV).
    await drive(() => events.length === 3, 'diff events');
    expect(events.sort()).toEqual([
      'add root:b|/new@106',
      'delete root:a|/vanishes',
      'update root:a|/changes@103->105',
    ]);
    expect(inf.relists).toBe(1);
    expect(inf.keys().sort()).toEqual(['root:a|/changes', 'root:a|/stays', 'root:b|/new']);
    const next = await server.nextWatch(1);
    expect(next.query.get('resourceVersion')).toBe('106');
  });

  it('re-watches from the last RV after the connection drops, without relisting', async () => {
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    server.put(edge('root:a', 'e1'));
    await until(() => events.length === 1, 'add');
    w.destroy();
    const w2 = await server.nextWatch(1);
    expect(w2.query.get('resourceVersion')).toBe('101');
    expect(inf.watchRestarts).toBe(1);
    expect(inf.relists).toBe(0);
    expect(server.count('list')).toBe(1);
    server.put(edge('root:a', 'e2'));
    await until(() => events.length === 2, 'add after resume');
  });

  it('advances the RV on bookmarks without emitting events', async () => {
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    w.send({ type: 'BOOKMARK', object: { kind: 'Edge', metadata: { resourceVersion: '555' } } });
    await until(() => inf.resourceVersion === '555', 'bookmark RV');
    w.end(); // server timeout: the watch delivered something, so it re-watches at once
    const w2 = await server.nextWatch(1);
    expect(w2.query.get('resourceVersion')).toBe('555');
    expect(events).toEqual([]);
    expect(inf.stats.bookmarks).toBe(1);
  });

  it('backs off exponentially on errors instead of hot-looping, and resets after a healthy watch', async () => {
    const inf = informer();
    server.watchFailures.push(...Array<number>(50).fill(500));
    inf.start();
    await inf.waitForSync();
    // Drive 10 s of fake time: with 0.8 s doubling, the retries fall at 0.8, 2.4, 5.6 s (next at 12 s).
    const start = clock.now();
    for (;;) {
      await until(inBackoff, 'backoff timer');
      const watches = server.count('watch');
      const delay = clock.nextDelay() ?? 0;
      if (clock.now() + delay - start > 10_000) break;
      clock.advance(delay);
      await until(() => server.count('watch') === watches + 1, 'retry');
    }
    expect(server.count('watch')).toBe(4); // first attempt + 3 retries in 10 s
    expect(clock.nextDelay()).toBe(6400);
    expect(inf.stats.failures).toBe(4);
    server.watchFailures.length = 0;
    clock.advance(6400);
    const w = await server.nextWatch(0);
    server.put(edge('root:a', 'e1'));
    await until(() => events.length === 1, 'event');
    w.destroy(); // a healthy watch ended: re-watch immediately
    await server.nextWatch(1);
    expect(server.count('list')).toBe(1);
  });

  it('backs off when the server ends watches at once without delivering anything', async () => {
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    for (const [i, expected] of [
      [0, 800],
      [1, 1600],
      [2, 3200],
    ] as const) {
      (await server.nextWatch(i)).end();
      await until(inBackoff, 'backoff');
      expect(clock.nextDelay()).toBe(expected);
      expect(server.count('watch')).toBe(i + 1);
      clock.advance(expected);
    }
    await server.nextWatch(3);
    expect(inf.watchRestarts).toBe(3);
    expect(inf.relists).toBe(0);
  });

  it('retries a failing LIST with backoff and syncs once it succeeds', async () => {
    server.listFailures.push(500, 500);
    server.put(edge('root:a', 'e1'));
    const inf = informer();
    inf.start();
    await until(inBackoff, 'first backoff');
    expect(inf.hasSynced()).toBe(false);
    clock.advance(clock.nextDelay() ?? 0);
    await until(() => server.count('list') === 2 && inBackoff(), 'second backoff');
    expect(clock.nextDelay()).toBe(1600);
    clock.advance(1600);
    await inf.waitForSync();
    expect(inf.keys()).toEqual(['root:a|/e1']);
  });

  it('aborts a silent watch via the watchdog and resumes from the last RV', async () => {
    const inf = informer({ watchdogMs: 60_000, healthyWatchMs: 10_000 });
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    clock.advance(59_999);
    expect(w.closed).toBe(false);
    clock.advance(1);
    const w2 = await server.nextWatch(1);
    await until(() => w.closed, 'old watch closed');
    expect(inf.stats.watchdogAborts).toBe(1);
    expect(inf.watchRestarts).toBe(1);
    expect(inf.relists).toBe(0);
    expect(w2.query.get('resourceVersion')).toBe('100');
  });

  it('uses watchResourceVersion for the first watch only', async () => {
    const inf = informer({ watchResourceVersion: '7' });
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    expect(w.query.get('resourceVersion')).toBe('7');
    server.put(edge('root:a', 'e1'));
    await until(() => events.length === 1, 'event');
    w.end();
    expect((await server.nextWatch(1)).query.get('resourceVersion')).toBe('101');
  });

  it('stop() aborts the watch in flight and nothing restarts it', async () => {
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    const w = await server.nextWatch(0);
    await inf.stop();
    await until(() => w.closed, 'watch closed');
    expect(clock.pending).toBe(0); // no retry or watchdog timer left that could restart anything
    clock.advance(3_600_000);
    // Bounded waits to show that nothing happens (a request to the loopback server would land within a few ms);
    // the clock.pending checks above and below are the deterministic part.
    await new Promise((r) => setTimeout(r, 30));
    expect(server.requests).toHaveLength(2);
    expect(clock.pending).toBe(0);
    inf.start();
    await new Promise((r) => setTimeout(r, 10));
    expect(server.requests).toHaveLength(2);
  });

  it('stop() during a backoff cancels the retry, and waitForSync rejects when stopped first', async () => {
    server.listFailures.push(500);
    const inf = informer();
    inf.start();
    const sync = inf.waitForSync();
    await until(inBackoff, 'backoff');
    await inf.stop();
    await expect(sync).rejects.toBeInstanceOf(InformerStoppedError);
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 20)); // bounded: shows no retry request follows (none is scheduled, above)
    expect(server.requests).toHaveLength(1);
  });

  it('maintains named indexes across add, update and delete, and survives a throwing handler', async () => {
    server.put(edge('root:a', 'e1', { zone: 'x' }));
    const inf = informer();
    inf.addIndex('zone', (o) => (o.metadata.labels?.zone ? [o.metadata.labels.zone] : []));
    inf.onAdd(() => {
      throw new Error('handler bug');
    });
    inf.start();
    await inf.waitForSync();
    await server.nextWatch(0);
    expect(inf.byIndex('zone', 'x').map(key)).toEqual(['root:a|/e1']);
    server.put(edge('root:b', 'e1', { zone: 'x' }));
    server.put(edge('root:a', 'e1', { zone: 'y' }));
    await until(() => events.length === 3, 'events');
    expect(inf.indexKeys('zone', 'x')).toEqual(['root:b|/e1']);
    expect(inf.indexKeys('zone', 'y')).toEqual(['root:a|/e1']);
    server.remove('root:b|/e1');
    await until(() => events.length === 4, 'delete');
    expect(inf.byIndex('zone', 'x')).toEqual([]);
    expect(() => inf.byIndex('nope', 'x')).toThrow();
  });

  it('caches what `transform` returns for listed, watched and deleted objects; RVs still drive the updates', async () => {
    const heavy = (cluster: string, name: string, labels: Record<string, string> = {}): KubeObject => {
      const o = edge(cluster, name, labels);
      o.metadata.managedFields = [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }];
      o.metadata.annotations = { ...o.metadata.annotations, [LAST_APPLIED_ANNOTATION]: '{"big":true}', keep: 'me' };
      return o;
    };
    server.put(heavy('root:a', 'e1'));
    const deleted: KubeObject[] = [];
    const inf = informer({ transform: stripMetadata([LAST_APPLIED_ANNOTATION]) });
    inf.onDelete((o) => deleted.push(o));
    inf.start();
    await inf.waitForSync();
    await server.nextWatch(0);
    server.put(heavy('root:a', 'e2'));
    server.put(heavy('root:a', 'e1', { zone: 'x' }));
    server.remove('root:a|/e2');
    await until(() => events.length === 4, 'watch events');
    expect(events).toEqual([
      'add root:a|/e1@101',
      'add root:a|/e2@102',
      'update root:a|/e1@101->103',
      'delete root:a|/e2',
    ]);
    expect(inf.get('root:a|/e1')?.metadata).toEqual({
      name: 'e1',
      labels: { zone: 'x' },
      annotations: { [CLUSTER_ANNOTATION]: 'root:a', keep: 'me' },
      resourceVersion: '103',
    });
    expect(deleted[0]?.metadata.managedFields).toBeUndefined();
    expect(inf.resourceVersion).toBe('104');
  });

  it('logs a 404 before the first sync at debug within notFoundGraceMs, at warn after it', async () => {
    const lines: { level: number; msg: string }[] = [];
    const capture = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    server.listFailures.push(404, 404);
    server.put(edge('root:a', 'e1'));
    const inf = informer({ logger: capture, notFoundGraceMs: 1_000 });
    inf.start();
    await until(inBackoff, 'first backoff');
    clock.advance(1_000);
    await until(() => server.count('list') === 2 && inBackoff(), 'second backoff');
    clock.advance(clock.nextDelay() ?? 0);
    await inf.waitForSync();
    const failed = lines.filter((l) => l.msg === 'list/watch failed; will relist').map((l) => l.level);
    expect(failed).toEqual([20, 40]); // pino: debug, then warn
  });

  it.each([
    ['a policy with unset (undefined) fields', { initialMs: undefined, maxMs: undefined }],
    ['a NaN policy', { initialMs: Number.NaN, factor: Number.NaN }],
    ['a zero policy', { initialMs: 0, maxMs: 0 }],
  ])(
    'never spins on a closed client (requests reject at once) with %s: failures wait on real timers',
    async (_name, backoff) => {
      // KubeClient.close() destroys the Agent: every later request rejects within microtasks. A retry without a real
      // timer would starve the event loop (this timer would never fire) while Errors and log lines pile up.
      const closed = new KubeClient({ server: server.url });
      await closed.close();
      const inf = new Informer({ client: closed, path: PATH, logger, clock: realClock, backoff });
      informers.push(inf);
      // Not a timing assertion (a loaded machine delays timers at will): the property is that every failure waits at
      // least MIN_FAILURE_DELAY_MS of real time, so however long this takes, failures ≤ elapsed / MIN + 1. A spinning
      // loop would fail thousands of times instead, and `until` (which polls on a real timer) would never return.
      const started = Date.now();
      inf.start();
      await until(() => inf.stats.failures >= 2, 'a retried failure', 10_000);
      const elapsed = Date.now() - started;
      const failures = inf.stats.failures;
      process.stderr.write(
        `[informer] closed client: ${failures} failures in ${elapsed} ms (MIN_FAILURE_DELAY_MS ${MIN_FAILURE_DELAY_MS})\n`,
      );
      expect(failures).toBeLessThanOrEqual(Math.ceil(elapsed / MIN_FAILURE_DELAY_MS) + 1);
      expect(inf.hasSynced()).toBe(false);
      await inf.stop();
    },
  );
});

describe('stripMetadata', () => {
  const obj = (): KubeObject => ({
    kind: 'Edge',
    metadata: {
      name: 'e1',
      resourceVersion: '7',
      managedFields: [{ manager: 'm' }],
      annotations: { [LAST_APPLIED_ANNOTATION]: '{}', [CLUSTER_ANNOTATION]: 'root:a' },
    },
    spec: { type: 'kubernetes' },
  });

  it('drops managedFields and the named annotations without touching its input', () => {
    const input = obj();
    const out = stripMetadata([LAST_APPLIED_ANNOTATION])(input);
    expect(out).toEqual({
      kind: 'Edge',
      metadata: { name: 'e1', resourceVersion: '7', annotations: { [CLUSTER_ANNOTATION]: 'root:a' } },
      spec: { type: 'kubernetes' },
    });
    expect(input).toEqual(obj());
    expect(out.spec).toBe(input.spec);
  });

  it('keeps annotations unless named, and returns an object with nothing to drop as is', () => {
    expect(stripMetadata()(obj()).metadata.annotations).toEqual(obj().metadata.annotations);
    const bare: KubeObject = { metadata: { name: 'x', annotations: { a: 'b' } } };
    expect(stripMetadata([LAST_APPLIED_ANNOTATION])(bare)).toBe(bare);
  });
});

describe('backoff', () => {
  it('ignores unset, NaN and negative fields of a partial policy', () => {
    expect(backoffPolicy()).toEqual(defaultBackoff);
    expect(backoffPolicy({ initialMs: undefined, maxMs: Number.NaN, factor: -1, jitter: 0 })).toEqual({
      ...defaultBackoff,
      jitter: 0,
    });
    expect(backoffPolicy({ initialMs: 100, maxMs: 500 })).toEqual({ ...defaultBackoff, initialMs: 100, maxMs: 500 });
  });

  it('never returns NaN', () => {
    const nan = { initialMs: Number.NaN, maxMs: Number.NaN, factor: 2, jitter: 0.5 };
    expect(backoffDelay(1, nan, () => 0)).toBe(defaultBackoff.initialMs);
    expect(backoffDelay(3, defaultBackoff, () => Number.NaN)).toBe(defaultBackoff.initialMs);
    expect(backoffDelay(2000, defaultBackoff, () => 0)).toBe(defaultBackoff.maxMs);
    expect(backoffDelay(0, defaultBackoff, () => 0)).toBe(0);
  });
});
