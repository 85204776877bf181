import { describe, expect, it } from '@jest/globals';
import type { Edge } from '../../api/types.ts';
import { testLogger } from '../../tunnel/test-support.ts';
import { SshTarget, sshAddressOf } from './ssh-target.ts';

const edge = (sshPort?: number): Edge => ({
  metadata: { name: 'pi' },
  spec: { type: 'server', server: sshPort === undefined ? {} : { sshPort } },
});

describe('sshd address', () => {
  it("is 127.0.0.1 and the Edge's sshPort, 22 by default", () => {
    expect(sshAddressOf(edge(2222))).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(sshAddressOf(edge())).toEqual({ host: '127.0.0.1', port: 22 });
    expect(() => sshAddressOf(edge(70_000))).toThrow(/not a TCP port/);
  });

  it('--ssh-address wins and the Edge is never read', async () => {
    let reads = 0;
    const t = new SshTarget({
      override: { host: '10.0.0.2', port: 22 },
      getEdge: async () => (reads++, edge(1)),
      logger: testLogger,
    });
    expect(await t.current()).toEqual({ host: '10.0.0.2', port: 22 });
    expect(await t.refresh()).toEqual({ host: '10.0.0.2', port: 22 });
    expect(reads).toBe(0);
  });

  it('reads the Edge once, follows a port edit on refresh, keeps the known port when the hub is away', async () => {
    const answers: (Edge | Error)[] = [edge(2222), edge(2200), new Error('hub down')];
    let reads = 0;
    const t = new SshTarget({
      getEdge: async () => {
        reads++;
        const a = answers.shift();
        if (a instanceof Error || a === undefined) throw a ?? new Error('no more');
        return a;
      },
      logger: testLogger,
    });
    expect(await t.current()).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(await t.current()).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(reads).toBe(1);
    expect(await t.refresh()).toEqual({ host: '127.0.0.1', port: 2200 });
    expect(await t.refresh()).toEqual({ host: '127.0.0.1', port: 2200 });
    expect(reads).toBe(3);
  });

  it('without a successful read there is no address (never a guessed port 22)', async () => {
    const t = new SshTarget({
      getEdge: async () => {
        throw new Error('hub down');
      },
      logger: testLogger,
    });
    await expect(t.current()).rejects.toThrow('hub down');
  });
});
