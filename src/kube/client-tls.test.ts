import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from './client.ts';

/** A throwaway self-signed certificate for 127.0.0.1, made by the openssl CLI (the suite skips without it). */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'kedge-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

const tls = selfSigned();
let server: Server;
let base = '';
let handshakes = 0;

beforeAll(async () => {
  if (!tls) return;
  server = createServer(tls, (req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ metadata: { name: req.headers.authorization ?? '' } }));
  });
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (!tls) return;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

(tls ? describe : describe.skip)('KubeClient over TLS', () => {
  it('trusts the given CA and makes one TLS handshake for many sequential requests', async () => {
    const c = new KubeClient({ server: `${base}/clusters/root`, ca: tls?.cert, token: 't' });
    handshakes = 0;
    for (let i = 0; i < 30; i++) expect((await c.get('/api')).metadata.name).toBe('Bearer t');
    expect(handshakes).toBe(1);
    await c.close();
  });

  it('rejects an unknown CA unless insecureSkipTLSVerify is set', async () => {
    const strict = new KubeClient({ server: base });
    await expect(strict.get('/api')).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const loose = new KubeClient({ server: base, insecureSkipTLSVerify: true });
    await expect(loose.get('/api')).resolves.toMatchObject({ metadata: { name: '' } });
    await Promise.all([strict.close(), loose.close()]);
  });
});
