import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../util/clock.ts';
import { WorkQueue } from '../kube/work-queue.ts';
import {
  CONTROLLERS,
  PROXY_OUTCOMES,
  RECONCILE_RESULTS,
  createMetrics,
  outcomeOfStatus,
  timeReconcile,
} from './metrics.ts';

async function scrape(
  m: ReturnType<typeof createMetrics>,
): Promise<Map<string, { type: string; labels: Set<string>; values: Map<string, number> }>> {
  const out = new Map<string, { type: string; labels: Set<string>; values: Map<string, number> }>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    const labels = new Set<string>();
    const values = new Map<string, number>();
    for (const v of metric.values) {
      for (const k of Object.keys(v.labels)) labels.add(k);
      values.set(
        `${'metricName' in v && v.metricName ? v.metricName : metric.name}${JSON.stringify(v.labels)}`,
        v.value,
      );
    }
    out.set(metric.name, { type: String(metric.type), labels, values });
  }
  return out;
}

const OWN = [
  'kedge_hub_http_requests_total',
  'kedge_hub_connections_total',
  'kedge_hub_tunnel_sessions',
  'kedge_hub_tunnel_connects_total',
  'kedge_hub_tunnel_disconnects_total',
  'kedge_hub_edges_proxy_requests_total',
  'kedge_hub_agent_proxy_requests_total',
  'kedge_hub_reconciles_total',
  'kedge_hub_reconcile_duration_seconds',
  'kedge_hub_leader',
  'kedge_workqueue_depth',
  'kedge_workqueue_adds_total',
  'kedge_workqueue_queue_duration_seconds',
  'kedge_workqueue_work_duration_seconds',
  'kedge_workqueue_retries_total',
];

describe('hub metrics', () => {
  it('defines the hub metrics with their types and only bounded labels', async () => {
    const got = await scrape(createMetrics());
    const want: Record<string, [string, string[]]> = {
      kedge_hub_http_requests_total: ['counter', ['route', 'code']],
      kedge_hub_connections_total: ['counter', ['protocol']],
      kedge_hub_tunnel_sessions: ['gauge', []],
      kedge_hub_tunnel_connects_total: ['counter', []],
      kedge_hub_tunnel_disconnects_total: ['counter', []],
      kedge_hub_edges_proxy_requests_total: ['counter', ['outcome']],
      kedge_hub_agent_proxy_requests_total: ['counter', ['outcome']],
      kedge_hub_reconciles_total: ['counter', ['controller', 'result']],
      kedge_hub_reconcile_duration_seconds: ['histogram', ['controller']],
      kedge_hub_leader: ['gauge', []],
      kedge_workqueue_depth: ['gauge', ['name']],
      kedge_workqueue_adds_total: ['counter', ['name']],
      kedge_workqueue_queue_duration_seconds: ['histogram', ['name']],
      kedge_workqueue_work_duration_seconds: ['histogram', ['name']],
      kedge_workqueue_retries_total: ['counter', ['name']],
    };
    for (const [name, [type, labels]] of Object.entries(want)) {
      expect({ name, type: got.get(name)?.type }).toEqual({ name, type });
      // The label set is fixed: declared series carry exactly these (histograms add `le` to their buckets).
      for (const l of got.get(name)?.labels ?? [])
        if (l !== 'le') expect({ name, label: l, ok: labels.includes(l) }).toEqual({ name, label: l, ok: true });
    }
    expect([...OWN].sort()).toEqual(Object.keys(want).sort());
    expect(got.has('kedge_hub_process_cpu_seconds_total')).toBe(true);
    expect(got.get('kedge_hub_leader')?.values.get('kedge_hub_leader{}')).toBe(0);
    // Every outcome is pre-declared at 0, so rate() works before the first request of a kind.
    expect(got.get('kedge_hub_edges_proxy_requests_total')?.values.size).toBe(PROXY_OUTCOMES.length);
    // … and every controller's queue series, so they are scrapeable before the controllers ever run.
    for (const name of CONTROLLERS) {
      expect(got.get('kedge_workqueue_depth')?.values.get(`kedge_workqueue_depth{"name":"${name}"}`)).toBe(0);
      expect(got.get('kedge_workqueue_adds_total')?.values.get(`kedge_workqueue_adds_total{"name":"${name}"}`)).toBe(0);
      expect(
        got
          .get('kedge_workqueue_work_duration_seconds')
          ?.values.get(`kedge_workqueue_work_duration_seconds_count{"name":"${name}"}`),
      ).toBe(0);
    }
  });

  it('counts through the edge and controller interfaces; labels never exceed their fixed sets', async () => {
    const m = createMetrics();
    m.edges.tunnelConnected(1);
    m.edges.tunnelConnected(2);
    m.edges.tunnelDisconnected(1);
    m.edges.edgesProxy('forwarded');
    m.edges.edgesProxy(outcomeOfStatus(502));
    m.edges.agentProxy(outcomeOfStatus(401));
    m.controllers.leader(true);
    await timeReconcile(m.controllers, 'workload', async () => undefined);
    await timeReconcile(m.controllers, 'edge', async () => ({ requeueAfterMs: 5 }));
    await expect(timeReconcile(m.controllers, 'workload', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, metrics: m.controllers.queue('edge') });
    q.add('root:t|/e1');
    q.add('root:t|/e2');
    clock.advance(20);
    const k = await q.get();
    clock.advance(3);
    q.done(k as string);
    q.addRateLimited(k as string);

    const got = await scrape(m);
    const v = (name: string, key: string): number | undefined => got.get(name)?.values.get(`${name}${key}`);
    expect(v('kedge_hub_tunnel_sessions', '{}')).toBe(1);
    expect(v('kedge_hub_tunnel_connects_total', '{}')).toBe(2);
    expect(v('kedge_hub_tunnel_disconnects_total', '{}')).toBe(1);
    expect(v('kedge_hub_edges_proxy_requests_total', '{"outcome":"forwarded"}')).toBe(1);
    expect(v('kedge_hub_edges_proxy_requests_total', '{"outcome":"not_connected"}')).toBe(1);
    expect(v('kedge_hub_agent_proxy_requests_total', '{"outcome":"unauthorized"}')).toBe(1);
    expect(v('kedge_hub_leader', '{}')).toBe(1);
    expect(v('kedge_hub_reconciles_total', '{"controller":"workload","result":"success"}')).toBe(1);
    expect(v('kedge_hub_reconciles_total', '{"controller":"edge","result":"requeue"}')).toBe(1);
    expect(v('kedge_hub_reconciles_total', '{"controller":"workload","result":"error"}')).toBe(1);
    const hist = got.get('kedge_hub_reconcile_duration_seconds')?.values;
    expect(hist?.get('kedge_hub_reconcile_duration_seconds_count{"controller":"workload"}')).toBe(2);
    expect(v('kedge_workqueue_adds_total', '{"name":"edge"}')).toBe(2);
    expect(v('kedge_workqueue_depth', '{"name":"edge"}')).toBe(1);
    expect(v('kedge_workqueue_retries_total', '{"name":"edge"}')).toBe(1);
    const sum = (name: string): number | undefined => got.get(name)?.values.get(`${name}_sum{"name":"edge"}`);
    expect(sum('kedge_workqueue_queue_duration_seconds')).toBeCloseTo(0.02);
    expect(sum('kedge_workqueue_work_duration_seconds')).toBeCloseTo(0.003);
    expect(v('kedge_workqueue_adds_total', '{"name":"workload"}')).toBe(0);

    // The hub's own metrics carry only these labels, each from a fixed set (never tenant, cluster or edge names).
    const allowed: Record<string, readonly string[] | undefined> = {
      outcome: PROXY_OUTCOMES,
      controller: CONTROLLERS,
      result: RECONCILE_RESULTS,
      name: CONTROLLERS,
      le: undefined,
    };
    for (const [name, metric] of got) {
      if (name === 'kedge_hub_http_requests_total' || !OWN.includes(name)) continue;
      for (const key of metric.values.keys()) {
        for (const [label, value] of Object.entries(
          JSON.parse(key.slice(key.indexOf('{'))) as Record<string, string | number>,
        )) {
          expect(Object.keys(allowed)).toContain(label);
          if (allowed[label]) expect(allowed[label]).toContain(String(value));
        }
      }
    }
  });

  it("maps the hub's own statuses to outcomes", () => {
    expect([200, 400, 401, 403, 404, 409, 502, 503].map(outcomeOfStatus)).toEqual([
      'ok',
      'bad_request',
      'unauthorized',
      'forbidden',
      'not_found',
      'client_error',
      'not_connected',
      'error',
    ]);
  });
});
