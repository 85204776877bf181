// Keepalive: yamux pings both ways keep an idle session up, and a peer that silently stops answering (TCP cut without
// a close) is detected by both sides within about interval + timeout.
import { describe, it, expect } from '@jest/globals';
import { WebSocket } from 'ws';
import { TunnelErrorCode } from './errors.ts';
import { poll } from '../util/wait.ts';
import { createWebSocketSession, webSocketOptions, type TunnelSession } from './session.ts';
import { freezableProxy, onceClosed, testLogger, wsServer } from './test-support.ts';

/** Counts the pings `session` sends that were answered (the keepalive timer calls the public `ping`). */
function answeredPings(session: TunnelSession): () => number {
  let answered = 0;
  const ping = session.ping.bind(session);
  session.ping = async (timeoutMs?: number) => {
    const rtt = await ping(timeoutMs);
    answered++;
    return rtt;
  };
  return () => answered;
}

describe('tunnel keepalive', () => {
  it('keeps an idle session up, then detects a silent peer on both sides within interval + timeout', async () => {
    const endpoint = await wsServer();
    const proxy = await freezableProxy(Number(new URL(endpoint.url).port));
    const config = { keepAliveIntervalMs: 100, keepAliveTimeoutMs: 200 };
    const client = createWebSocketSession(new WebSocket(`ws://127.0.0.1:${proxy.port}/`, webSocketOptions()), {
      role: 'client',
      logger: testLogger,
      config,
    });
    const server = createWebSocketSession(await endpoint.accept(), { role: 'server', logger: testLogger, config });
    try {
      // The idle session must outlive several keepalive rounds: wait until each side's own pings were answered three
      // times (more than interval + timeout), then check neither side closed meanwhile.
      const answered = [answeredPings(client), answeredPings(server)];
      await poll(async () => (answered.every((n) => n() >= 3) ? true : undefined), {
        what: 'three keepalive pings answered on each side',
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      expect(client.closed).toBe(false);
      expect(server.closed).toBe(false);
      expect(client.rttMs).toBeGreaterThanOrEqual(0);
      expect(server.rttMs).toBeGreaterThanOrEqual(0);

      const cutAt = Date.now();
      proxy.freeze();
      const [c, s] = await Promise.all([onceClosed(client), onceClosed(server)]);
      expect(c.reason?.code).toBe(TunnelErrorCode.KeepAliveTimeout);
      expect(s.reason?.code).toBe(TunnelErrorCode.KeepAliveTimeout);
      // interval + timeout = 300 ms; allow scheduling slack on a loaded machine.
      expect(c.at - cutAt).toBeLessThan(1500);
      expect(s.at - cutAt).toBeLessThan(1500);
    } finally {
      await client.close();
      await server.close();
      proxy.close();
      await endpoint.close();
    }
  });

  it('with keepalive disabled a silent peer is not detected by pings', async () => {
    const endpoint = await wsServer();
    const proxy = await freezableProxy(Number(new URL(endpoint.url).port));
    const config = { keepAliveIntervalMs: 0 };
    const client = createWebSocketSession(new WebSocket(`ws://127.0.0.1:${proxy.port}/`, webSocketOptions()), {
      role: 'client',
      logger: testLogger,
      config,
    });
    const server = createWebSocketSession(await endpoint.accept(), { role: 'server', logger: testLogger, config });
    try {
      proxy.freeze();
      // Only an explicit ping notices the silent peer; its timeout passing does not close the session.
      await expect(client.ping(300)).rejects.toThrow();
      expect(client.closed).toBe(false);
    } finally {
      await client.close();
      await server.close();
      proxy.close();
      await endpoint.close();
    }
  });
});
