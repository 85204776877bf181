// A kcp of a suite's own on free ports, for tests that restart kcp or need unusual flags, and for benchmarks.
// The run's shared kcp (global setup) stays untouched.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startKcp, writeKcpAuthFiles, type KcpProcess } from '../../src/hub/kcp/process.ts';
import { ensureDevPki } from '../../src/hub/tls.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { freePort } from '../../src/util/free-port.ts';
import { tool } from './env.ts';

function testLogger(): Logger {
  return pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' });
}

export interface OwnKcp {
  kcp: KcpProcess;
  client: KubeClient;
  /** The admin token (for a child process that needs its own client). */
  adminToken: string;
  workDir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A kcp of the caller's own on free ports (tests that restart kcp, the benchmark). Only the admin token works on
 * it: its TokenReview webhook points at a port nothing listens on.
 */
export async function startOwnKcp(
  log: Logger = testLogger(),
  opts: { workDir?: string; extraArgs?: string[] } = {},
): Promise<OwnKcp> {
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'kedge-ownkcp-'));
  const pki = ensureDevPki(join(workDir, 'pki'), ['127.0.0.1']);
  const adminToken = `admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const auth = writeKcpAuthFiles(join(workDir, 'auth'), {
    adminToken,
    webhookURL: `https://127.0.0.1:${await freePort()}/authn/tokenreview`,
    hubCAFile: pki.caFile,
    webhookToken: 'unused',
  });
  const port = await freePort();
  const kcpOpts = {
    binary: tool('kcp'),
    rootDir: join(workDir, 'kcp'),
    port,
    auth,
    logFile: join(workDir, 'kcp.log'),
    unsafeNoFsync: true,
    extraArgs: opts.extraArgs ?? [],
  };
  const own: OwnKcp = {
    kcp: await startKcp(kcpOpts, log),
    client: undefined as unknown as KubeClient,
    adminToken,
    workDir,
    async restart() {
      await own.kcp.stop();
      own.kcp = await startKcp(kcpOpts, log);
    },
    async stop() {
      await own.client.close();
      await own.kcp.stop();
      if (!opts.workDir && !process.env.KEDGE_TEST_KEEP) rmSync(workDir, { recursive: true, force: true });
    },
  };
  own.client = new KubeClient({
    server: own.kcp.url,
    token: adminToken,
    ca: readFileSync(own.kcp.caFile),
    userAgent: 'kedge-e2e',
  });
  return own;
}
