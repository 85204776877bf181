// Keepalive: yamux pings both ways keep an idle session up, and a peer that silently stops answering (TCP cut without
// a close) is detected by both sides within about interval + timeout.
import { describe, it, expect } from '@jest/globals';
import { WebSocket } from 'ws';
import { TunnelErrorCode } from './errors.ts';
import { createWebSocketSession, webSocketOptions } from './session.ts';
import { freezableProxy, onceClosed, testLogger, wsServer } from './test-support.ts';

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
      // Bounded on purpose: the session must NOT close while idle. 700 ms is several ping rounds (interval 100 ms,
      // timeout 200 ms); the rtt checks below show pings were answered both ways in that time.
      await new Promise((r) => setTimeout(r, 700));
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
      await new Promise((r) => setTimeout(r, 500)); // bounded on purpose: nothing may close the session meanwhile
      expect(client.closed).toBe(false);
      await expect(client.ping(100)).rejects.toThrow();
    } finally {
      await client.close();
      await server.close();
      proxy.close();
      await endpoint.close();
    }
  });
});
