// Jest global setup for the integration project: starts ONE real kcp for the whole run, wired to trust the
// hub port that the suites start their hub on (kcp authenticates users through the hub's TokenReview webhook).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startKcp, writeKcpAuthFiles, type KcpProcess } from '../../src/hub/kcp/process.ts';
import { loadOrCreateSecrets } from '../../src/hub/secrets.ts';
import { ensureDevPki } from '../../src/hub/tls.ts';
import { freePort } from '../../src/util/free-port.ts';
import { ENV_FILE_VAR, tool, type TestEnv } from './env.ts';

declare global {
  var __kedgeKcp: KcpProcess | undefined;
}

export default async function globalSetup(): Promise<void> {
  const kcpBinary = tool('kcp');
  if (!existsSync(kcpBinary)) throw new Error(`kcp is not built at ${kcpBinary}: run 'make tools' (make test does it)`);
  const workDir = mkdtempSync(join(tmpdir(), 'kedge-it-'));
  const hubDataDir = join(workDir, 'hub');
  const [kcpPort, hubPort] = [await freePort(), await freePort()];
  const pki = ensureDevPki(join(hubDataDir, 'pki'), ['127.0.0.1', 'localhost']);
  const secrets = loadOrCreateSecrets(join(hubDataDir, 'secrets.json'));
  const auth = writeKcpAuthFiles(join(workDir, 'kcp-auth'), {
    adminToken: secrets.kcpAdminToken,
    webhookURL: `https://127.0.0.1:${hubPort}/authn/tokenreview`,
    hubCAFile: pki.caFile,
    webhookToken: secrets.webhookToken,
  });
  const log = pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' });
  const kcpLogFile = join(workDir, 'kcp.log');
  const started = Date.now();
  const kcp = await startKcp(
    {
      binary: kcpBinary,
      rootDir: join(workDir, 'kcp'),
      port: kcpPort,
      auth,
      logFile: kcpLogFile,
      unsafeNoFsync: true,
      // Compact etcd often so a test can provoke 410 Gone with a resourceVersion from before a compaction.
      extraArgs: ['--etcd-compaction-interval=5s'],
    },
    log,
  );
  globalThis.__kedgeKcp = kcp;
  process.stderr.write(
    `\n[harness] kcp ready on ${kcp.url} in ${((Date.now() - started) / 1000).toFixed(1)} s (log ${kcpLogFile})\n`,
  );

  const kcpAdminKubeconfig = join(workDir, 'kcp-admin.kubeconfig');
  writeFileSync(
    kcpAdminKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kcp', cluster: { server: kcp.url, 'certificate-authority': kcp.caFile } }],
      users: [{ name: 'kedge-hub', user: { token: secrets.kcpAdminToken } }],
      contexts: [{ name: 'kcp', context: { cluster: 'kcp', user: 'kedge-hub' } }],
      'current-context': 'kcp',
    }),
    { mode: 0o600 },
  );

  const env: TestEnv = {
    workDir,
    kcpURL: kcp.url,
    kcpCAFile: kcp.caFile,
    kcpAdminKubeconfig,
    kcpLogFile,
    kcpPid: kcp.pid,
    hubPort,
    hubDataDir,
    hubCAFile: pki.caFile,
    hubCertFile: pki.certFile,
    hubKeyFile: pki.keyFile,
  };
  const envFile = join(workDir, 'env.json');
  writeFileSync(envFile, JSON.stringify(env, null, 2));
  process.env[ENV_FILE_VAR] = envFile;
}
