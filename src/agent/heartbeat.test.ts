import { describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../kube/client.ts';
import { testLogger } from '../tunnel/test-support.ts';
import { Heartbeat } from './heartbeat.ts';
import type { EdgeFacts } from './heartbeat.ts';

/** A hub whose PATCHes wait until released, recording each body. */
function slowHub() {
  const bodies: unknown[] = [];
  const pending: (() => void)[] = [];
  const hub = {
    patch: (_path: string, body: unknown) => {
      bodies.push(body);
      return new Promise<void>((r) => pending.push(r));
    },
  } as unknown as KubeClient;
  return { hub, bodies, release: () => pending.shift()?.() };
}

describe('Heartbeat', () => {
  it("reports the provider's facts; a beat asked for during one in flight follows it with fresh facts", async () => {
    const { hub, bodies, release } = slowHub();
    let facts: EdgeFacts = { hostname: 'h' };
    const hb = new Heartbeat({ hub, facts: () => facts, intervalMs: 60_000, logger: testLogger });
    const first = hb.beat();
    await new Promise((r) => setImmediate(r));
    facts = { hostname: 'h', observedSSHHostKeys: ['k'] }; // a scan changed the facts meanwhile
    void hb.beat();
    void hb.beat(); // coalesced with the previous request
    expect(bodies).toHaveLength(1);
    release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(bodies).toEqual([{ status: { hostname: 'h' } }, { status: { hostname: 'h', observedSSHHostKeys: ['k'] } }]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(hb.beats).toBe(2);
    expect(bodies).toHaveLength(2); // three calls, two PATCHes
    hb.stop();
    await hb.beat();
    expect(bodies).toHaveLength(2); // stopped: no more
  });
});
