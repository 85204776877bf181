// Starts a hub in the test process against the run's kcp, on the port kcp's webhook points at. The tokens go
// through a 0600 --static-tokens-file, the way `make run` hands them over.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startHub, type Hub, type HubOptions } from '../../src/hub/hub.ts';
import { loadTestEnv } from './env.ts';

export interface TestHub extends Hub {
  hubURL: string;
  caFile: string;
  port: number;
}

/** `extra` overrides hub options, e.g. `{ controllers: { failoverGraceMs } }`. */
export async function startTestHub(staticTokens: string[], extra: Partial<HubOptions> = {}): Promise<TestHub> {
  const env = loadTestEnv();
  const tokensDir = mkdtempSync(join(tmpdir(), 'kedge-hub-tokens-'));
  const staticTokensFile = join(tokensDir, 'static-tokens');
  writeFileSync(staticTokensFile, staticTokens.map((t) => `${t}\n`).join(''), { mode: 0o600 });
  let hub: Hub;
  try {
    hub = await startHub(
      {
        listenHost: '127.0.0.1',
        port: env.hubPort,
        externalURL: `https://127.0.0.1:${env.hubPort}`,
        dataDir: env.hubDataDir,
        tls: { certFile: env.hubCertFile, keyFile: env.hubKeyFile, caFile: env.hubCAFile },
        staticTokens: [],
        staticTokensFile,
        kcp: { mode: 'external', kubeconfig: env.kcpAdminKubeconfig },
        ...extra,
      },
      pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' }),
    );
  } finally {
    // Read once at start: the file is not needed afterwards.
    rmSync(tokensDir, { recursive: true, force: true });
  }
  await hub.ready;
  // Object.assign, not a spread: the hub exposes `controllers` and `edges` as live getters.
  return Object.assign(hub, { hubURL: `https://127.0.0.1:${env.hubPort}`, caFile: env.hubCAFile, port: env.hubPort });
}
