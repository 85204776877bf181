// A private kcp for a suite that needs unusual flags or must restart kcp (the shared one belongs to the run).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startKcp, writeKcpAuthFiles, type KcpProcess } from '../../src/hub/kcp/process.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { freePort } from '../../src/util/free-port.ts';
import { randomToken } from '../../src/hub/secrets.ts';
import { tool } from './env.ts';

export interface ScratchKcp {
  kcp: KcpProcess;
  /** Admin client on the bare kcp URL. */
  admin: KubeClient;
  stop(): Promise<void>;
}

export async function startScratchKcp(extraArgs: string[] = []): Promise<ScratchKcp> {
  const dir = mkdtempSync(join(tmpdir(), 'kedge-scratch-kcp-'));
  const adminToken = randomToken();
  // No hub listens for this kcp's webhook: only the admin token is used here.
  const auth = writeKcpAuthFiles(join(dir, 'auth'), { adminToken, webhookURL: 'https://127.0.0.1:1/authn/tokenreview', hubCAFile: '/dev/null', webhookToken: randomToken() });
  const kcp = await startKcp({
    binary: tool('kcp'), rootDir: join(dir, 'kcp'), port: await freePort(), auth, logFile: join(dir, 'kcp.log'), unsafeNoFsync: true, extraArgs,
  }, pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' }));
  const admin = new KubeClient({ server: kcp.url, token: adminToken, ca: readFileSync(kcp.caFile) });
  return {
    kcp, admin,
    async stop() {
      await admin.close();
      await kcp.stop();
      if (!process.env.KEDGE_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
