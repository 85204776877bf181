// Runs kcp as a child process of the hub (the default for local use): writes kcp's token file and the
// TokenReview webhook kubeconfig that makes kcp ask the hub who a user is, starts kcp, waits for /readyz.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { Logger } from 'pino';
import { freePort } from '../../util/free-port.ts';
import { poll, retry, StopPolling } from '../../util/wait.ts';

export interface KcpProcessOptions {
  binary: string;
  /** kcp's --root-directory (certificates, embedded etcd, admin kubeconfig). */
  rootDir: string;
  port: number;
  /** From writeKcpAuthFiles. */
  auth: KcpAuthFiles;
  logFile: string;
  /** Skip etcd fsync (tests only). */
  unsafeNoFsync?: boolean;
  /** More `kcp start` flags (tests use a short --etcd-compaction-interval). */
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface KcpProcess {
  url: string;
  caFile: string;
  pid: number;
  stop(): Promise<void>;
  /** Resolves with the exit code when kcp exits for any reason. */
  exited: Promise<number | null>;
}

/** kcp could not bind a port (another process took a free port between our pick and kcp's bind). */
class PortInUseError extends Error {}

/** Starts kcp; when a port we picked was taken in the meantime, retries with new etcd ports (3 attempts). */
export async function startKcp(opts: KcpProcessOptions, log: Logger): Promise<KcpProcess> {
  return retry(() => startKcpOnce(opts, log), {
    attempts: 3,
    backoff: { initialMs: 0 },
    retryIf: (err) => err instanceof PortInUseError,
    onRetry: (err, attempt) => log.warn({ attempt, err }, 'kcp could not bind a port; retrying with new ports'),
  });
}

async function startKcpOnce(opts: KcpProcessOptions, log: Logger): Promise<KcpProcess> {
  if (!existsSync(opts.binary)) {
    throw new Error(`kcp binary not found at ${opts.binary}: run 'make tools' or pass --kcp-binary`);
  }
  mkdirSync(opts.rootDir, { recursive: true, mode: 0o700 });
  const pidFile = join(opts.rootDir, 'kedge-kcp.pid');
  await stopStaleKcp(pidFile, opts.rootDir, log);
  const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
  const args = [
    'start',
    `--root-directory=${opts.rootDir}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${opts.port}`,
    `--embedded-etcd-client-port=${etcdClient}`,
    `--embedded-etcd-peer-port=${etcdPeer}`,
    '--batteries-included=admin,workspace-types',
    '--enable-home-workspaces=false',
    `--token-auth-file=${opts.auth.tokenFile}`,
    `--authentication-token-webhook-config-file=${opts.auth.webhookConfigFile}`,
    '--authentication-token-webhook-version=v1',
    '--authentication-token-webhook-cache-ttl=10s',
    ...(opts.extraArgs ?? []),
  ];
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  const env = { ...process.env, ...(opts.unsafeNoFsync ? { UNSAFE_E2E_HACK_DISABLE_ETCD_FSYNC: 'true' } : {}) };
  // Own process group: a terminal's Ctrl-C reaches only the hub, which then stops kcp once, gracefully
  // (kcp treats a second signal as "exit now").
  const child: ChildProcess = spawn(opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  writeFileSync(pidFile, String(child.pid));
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let recentOutput = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    recentOutput = (recentOutput + chunk.toString('utf8')).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  log.info({ pid: child.pid, port: opts.port, rootDir: opts.rootDir, logFile: opts.logFile }, 'kcp starting');

  const url = `https://127.0.0.1:${opts.port}`;
  const caFile = join(opts.rootDir, 'apiserver.crt');
  let early: number | null | undefined;
  void exited.then((code) => {
    early = code;
  });
  try {
    await poll(
      async () => {
        if (early !== undefined) throw new StopPolling(new Error(`kcp exited with code ${early}; see ${opts.logFile}`));
        // kcp may keep running after its embedded etcd failed to bind: don't wait for a readiness that never comes.
        const bind = /listen tcp (\S+): bind: address already in use/.exec(recentOutput);
        if (bind) throw new StopPolling(new PortInUseError(`kcp could not bind ${bind[1]}: address already in use`));
        if (!existsSync(caFile)) return undefined;
        const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } });
        try {
          const res = await request(`${url}/readyz`, { dispatcher });
          await res.body.text();
          return res.statusCode === 200 ? true : undefined;
        } finally {
          await dispatcher.close();
        }
      },
      {
        what: `kcp /readyz on ${url} (log: ${opts.logFile})`,
        timeoutMs: opts.startTimeoutMs ?? 180_000,
        intervalMs: 500,
      },
    );
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    process.off('exit', killOnExit);
    out.end();
    throw err;
  }
  log.info({ url }, 'kcp ready');

  return {
    url,
    caFile,
    pid: child.pid ?? -1,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      rmSync(pidFile, { force: true });
      out.end();
    },
  };
}

export interface KcpAuthFiles {
  /** kcp --token-auth-file: one line, the hub's admin token with group system:kcp:admin. */
  tokenFile: string;
  /** kcp --authentication-token-webhook-config-file: where kcp sends TokenReviews for user tokens. */
  webhookConfigFile: string;
}

/** Writes the two files kcp needs to trust the hub; used by the hub (child kcp) and by test harnesses. */
export function writeKcpAuthFiles(
  dir: string,
  o: { adminToken: string; webhookURL: string; hubCAFile: string; webhookToken: string },
): KcpAuthFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${o.adminToken},kedge-hub,kedge-hub,"system:kcp:admin"\n`, { mode: 0o600 });
  const webhookConfigFile = join(dir, 'authn-webhook.kubeconfig');
  writeFileSync(
    webhookConfigFile,
    webhookKubeconfig({ url: o.webhookURL, caFile: o.hubCAFile, token: o.webhookToken }),
    { mode: 0o600 },
  );
  return { tokenFile, webhookConfigFile };
}

function webhookKubeconfig(w: { url: string; caFile: string; token: string }): string {
  // kcp reads this like any kubeconfig: the "cluster" is the hub's TokenReview endpoint.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kedge-hub', cluster: { server: w.url, 'certificate-authority': w.caFile } }],
      users: [{ name: 'kcp', user: { token: w.token } }],
      contexts: [{ name: 'webhook', context: { cluster: 'kedge-hub', user: 'kcp' } }],
      'current-context': 'webhook',
    },
    null,
    2,
  );
}

/** A hub killed hard leaves its kcp running; the next start stops it if the pid still is that kcp. */
async function stopStaleKcp(pidFile: string, rootDir: string, log: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    /* gone, or not Linux */
  }
  if (pid > 0 && cmdline.includes(`--root-directory=${rootDir}`)) {
    log.warn({ pid }, 'stopping a kcp left running by a previous hub');
    process.kill(pid, 'SIGTERM');
    await poll(async () => (existsSync(`/proc/${pid}`) ? undefined : true), {
      what: `old kcp ${pid} to exit`,
      timeoutMs: 30_000,
      intervalMs: 200,
    }).catch(() => process.kill(pid, 'SIGKILL'));
  }
  rmSync(pidFile, { force: true });
}
