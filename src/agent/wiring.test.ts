// ensureCredential's decision with a stored credential and a join token, against a plain HTTP server on loopback
// standing in for the hub's agent-proxy: only a 401 spends the stored credential; a hub that is down or failing
// leaves it in use (a pod restarted during a hub outage must not crash-loop), and no join is attempted.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { freePort } from '../util/free-port.ts';
import { isAgentError } from './errors.ts';
import type { CredentialStore, StoredCredential } from './hub-client/credential-store.ts';
import { agentConfig } from './options.ts';
import { ensureCredential } from './wiring.ts';

const log = pino({ level: 'silent' });
const stored: StoredCredential = { token: 'cred', cluster: 'abc', edge: 'pi', joinedAt: '2026-01-01T00:00:00Z' };
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

function memoryStore(): CredentialStore & { saved: StoredCredential[] } {
  const saved: StoredCredential[] = [];
  return { where: 'memory', saved, load: () => Promise.resolve(stored), save: async (c) => void saved.push(c) };
}

/** A hub answering every GET with `status`; POSTs (joins) are counted and refused with 401. */
async function hub(status: number): Promise<{ url: string; joins: () => number }> {
  let joins = 0;
  const srv = createServer((req, res) => {
    if (req.method === 'POST') joins += 1;
    res.writeHead(req.method === 'POST' ? 401 : status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status }));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, joins: () => joins };
}

const cfg = (hubUrl: string) => agentConfig({ hubUrl, cluster: 'abc', edge: 'pi', token: 'join-token' }, {});

describe('ensureCredential with a stored credential and a join token', () => {
  it('uses the stored credential when the hub cannot be reached', async () => {
    const store = memoryStore();
    const c = await ensureCredential(
      cfg(`http://127.0.0.1:${await freePort()}`),
      { insecureSkipTLSVerify: false },
      log,
      store,
    );
    expect(c).toEqual(stored);
    expect(store.saved).toEqual([]);
  });

  it('uses the stored credential when the hub fails (503), and does not join', async () => {
    const h = await hub(503);
    const store = memoryStore();
    expect(await ensureCredential(cfg(h.url), { insecureSkipTLSVerify: false }, log, store)).toEqual(stored);
    expect(h.joins()).toBe(0);
  });

  it('joins with the token when the hub refuses the stored credential (401)', async () => {
    const h = await hub(401);
    const store = memoryStore();
    const err = await ensureCredential(cfg(h.url), { insecureSkipTLSVerify: false }, log, store).catch(
      (e: unknown) => e,
    );
    expect(h.joins()).toBe(1);
    expect(isAgentError(err, 'KEDGE_AGENT_JOIN_REFUSED')).toBe(true);
    expect(store.saved).toEqual([]);
  });
});
