import { describe, expect, it } from '@jest/globals';
import { testLogger } from '../../tunnel/test-support.ts';
import type { SshAddress } from '../options.ts';
import type { ScanResult } from './host-key-scan.ts';
import { HostKeyWatch, sameKeys } from './host-key-watch.ts';

function watch(results: ScanResult[], address: () => Promise<SshAddress> = async () => ({ host: 'h', port: 22 })) {
  const changes: (readonly string[])[] = [];
  let now = 0;
  const w = new HostKeyWatch({
    address,
    intervalMs: 60_000,
    logger: testLogger,
    scan: async () => results.shift() ?? { ok: false, code: 'NO_MORE' },
    onChange: (k) => changes.push(k),
    now: () => now,
    minGapMs: 10_000,
  });
  return { w, changes, advance: (ms: number) => (now += ms) };
}

describe('HostKeyWatch', () => {
  it('reports a change only when the keys differ, and keeps the last result when a scan fails', async () => {
    const { w, changes } = watch([
      { ok: false, code: 'ECONNREFUSED' },
      { ok: true, keys: ['a', 'b'] },
      { ok: true, keys: ['a', 'b'] },
      { ok: false, code: 'ECONNREFUSED' },
      { ok: true, keys: ['a', 'c'] },
    ]);
    await w.scan();
    expect(w.keys).toBeUndefined(); // nothing to report yet
    await w.scan();
    await w.scan();
    expect(changes).toEqual([['a', 'b']]);
    await w.scan();
    expect(w.keys).toEqual(['a', 'b']); // sshd restarting is not a key change
    await w.scan();
    expect(changes).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(w.scans).toBe(5);
  });

  it('a connect right after a successful scan does not scan again; after a failure it does', async () => {
    const { w, advance } = watch([
      { ok: false, code: 'ECONNREFUSED' },
      { ok: true, keys: ['a'] },
      { ok: true, keys: ['a'] },
    ]);
    await w.scan();
    w.trigger(); // the last scan failed: scan
    await w.scan(); // joins the triggered one
    expect(w.scans).toBe(2);
    w.trigger(); // just succeeded: skipped
    await new Promise((r) => setImmediate(r)); // a started scan (all fakes here are microtasks) would be done now
    expect(w.scans).toBe(2);
    advance(10_000);
    w.trigger();
    await w.scan();
    expect(w.scans).toBe(3);
  });

  it('an unknown sshd address is a failed scan, not an error', async () => {
    const { w } = watch([], async () => {
      throw new Error('edge unreadable');
    });
    await expect(w.scan()).resolves.toBeUndefined();
    expect(w.keys).toBeUndefined();
  });

  it('compares key lists', () => {
    expect(sameKeys(undefined, undefined)).toBe(true);
    expect(sameKeys([], undefined)).toBe(false);
    expect(sameKeys(['a'], ['a'])).toBe(true);
    expect(sameKeys(['a'], ['a', 'b'])).toBe(false);
  });
});
