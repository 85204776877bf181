import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { KubeClient } from '../../kube/client.ts';
import { poll } from '../../util/wait.ts';
import { waitForKcpReady } from './probe.ts';

// A stand-in kcp that is not ready for its first `notReady` answers to /readyz (503), then is.
let server: Server;
let base = '';
let notReady = 0;
let asked = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/readyz') return void res.writeHead(404).end();
    asked++;
    if (notReady > 0) {
      notReady--;
      return void res.writeHead(503, { 'content-type': 'text/plain' }).end('[-]etcd failed');
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function logger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log: Logger = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('waitForKcpReady', () => {
  it('resolves once /readyz answers 200, asking at the steady interval, and says once that it waited', async () => {
    notReady = 3;
    asked = 0;
    const { log, lines } = logger();
    const t0 = Date.now();
    await waitForKcpReady(new KubeClient({ server: base }), log, new AbortController().signal, { intervalMs: 50 });
    expect(asked).toBe(4);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(lines().map((l) => l.msg)).toEqual(['waiting for kcp to become ready', 'kcp is ready']);
    expect(lines()[0]?.reason).toBe('kcp /readyz answered 503');
  });

  it('is silent when kcp is ready at once', async () => {
    notReady = 0;
    const { log, lines } = logger();
    await waitForKcpReady(new KubeClient({ server: base }), log, new AbortController().signal);
    expect(lines()).toEqual([]);
  });

  it('keeps waiting while kcp is unreachable, and stops when the hub stops (signal)', async () => {
    const { log, lines } = logger();
    const stop = new AbortController();
    // Nothing listens on port 1.
    const waiting = waitForKcpReady(new KubeClient({ server: 'http://127.0.0.1:1' }), log, stop.signal, {
      intervalMs: 20,
    });
    await poll(async () => lines().some((l) => l.msg === 'waiting for kcp to become ready'), {
      what: 'the wait to start',
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    stop.abort(new Error('hub stopping'));
    await expect(waiting).rejects.toThrow('hub stopping');
    expect(lines().map((l) => l.msg)).toEqual(['waiting for kcp to become ready']);
    expect(String(lines()[0]?.reason)).toMatch(/^kcp is unreachable/);
  });
});
