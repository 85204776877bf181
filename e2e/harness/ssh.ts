// What the SSH suites share: `kedge` as a binary-safe child process (stdin/stdout as bytes, the exit status kept),
// a PATH entry named `kedge` for terminals and OpenSSH, server edges joined with a server-mode agent, and one raw
// WebSocket upgrade to the hub's `…/ssh` endpoint (status, Status body, or the sshd banner on 101).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { Edge } from '../../src/api/types.ts';
import { normaliseHostKeys } from '../../src/api/host-keys.ts';
import { kedge, kubectlJSON } from './cli.ts';
import { startAgent, type AgentProcess } from './edges.ts';
import { toolsBin } from './env.ts';
import { eventually } from './http.ts';

const repo = new URL('../../', import.meta.url).pathname;
const kedgeScript = join(repo, 'bin', 'kedge.js');

export interface Captured {
  code: number;
  stdout: Buffer;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
}

export interface RunningKedge {
  child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  /** Exit status; a signal becomes 128+n as a shell shows it. */
  exited: Promise<Captured>;
}

/**
 * The environment SSH tests run kedge, ssh, scp … with: a HOME of their own (nothing read from or written to the
 * real ~/.ssh or ~/.kedge), the tenant kubeconfig, `kedge` and the tools on PATH, and no ssh-agent.
 */
export function sshEnv(o: { home: string; kubeconfig: string; binDir?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'SSH_AUTH_SOCK') env[k] = v;
  return {
    ...env,
    HOME: o.home,
    KUBECONFIG: o.kubeconfig,
    PATH: [o.binDir, toolsBin(), process.env.PATH].filter((p) => p !== undefined && p !== '').join(':'),
  };
}

/** Starts `kedge <args>` (Node 24, bin/kedge.js); stdin stays open until the caller ends it. */
export function spawnKedge(args: string[], env: Record<string, string>): RunningKedge {
  const t0 = Date.now();
  const child = spawn(process.execPath, [kedgeScript, ...args], { cwd: repo, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  child.stdin.on('error', () => {}); // EPIPE when kedge exits before reading everything: the exit code tells.
  const exited = new Promise<Captured>((resolve) =>
    child.once('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : -1),
        stdout: Buffer.concat(out),
        stderr: err,
        ms: Date.now() - t0,
      }),
    ),
  );
  return { child, stdout: () => Buffer.concat(out), stderr: () => err, exited };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

/** Runs `kedge <args>` to the end with `input` on stdin (then EOF); kills it after timeoutMs. */
export async function kedgeCapture(
  args: string[],
  env: Record<string, string>,
  opts: { input?: Buffer | string; timeoutMs?: number } = {},
): Promise<Captured> {
  const k = spawnKedge(args, env);
  const timer = setTimeout(() => k.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  k.child.stdin?.end(opts.input ?? '');
  const res = await k.exited;
  clearTimeout(timer);
  return res;
}

/** A directory holding an executable `kedge` (this Node, bin/kedge.js), for PATH in terminals and ProxyCommands. */
export function kedgeBinDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kedge-bin-'));
  const file = join(dir, 'kedge');
  writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${kedgeScript}' "$@"\n`);
  chmodSync(file, 0o755);
  return dir;
}

/** A temporary HOME; with `key`, that private key is its default ~/.ssh/id_ed25519. */
export function tempHome(key?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'kedge-home-'));
  if (key !== undefined) {
    const ssh = join(home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    writeFileSync(join(ssh, 'id_ed25519'), readFileSync(key), { mode: 0o600 });
    writeFileSync(join(ssh, 'id_ed25519.pub'), readFileSync(`${key}.pub`));
  }
  return home;
}

// ---- edges ---------------------------------------------------------------------------------------------------

export async function edgeStatus(kc: string, name: string): Promise<NonNullable<Edge['status']>> {
  return (await kubectlJSON<Edge>(kc, ['get', 'edge', name])).status ?? {};
}

export function condition(s: NonNullable<Edge['status']>, type: string): { status?: string; reason?: string } {
  return s.conditions?.find((c) => c.type === type) ?? {};
}

export function fingerprints(lines: readonly string[] | undefined): string[] {
  return normaliseHostKeys(lines ?? [])
    .map((k) => k.fingerprint)
    .sort();
}

/** `kedge edge join-command NAME` → the cluster and one-time token in the printed command. */
export async function joinToken(kc: string, edge: string): Promise<{ token: string; cluster: string }> {
  const res = await kedge(['edge', 'join-command', edge, '--kubeconfig', kc]);
  if (res.code !== 0) throw new Error(`join-command ${edge}: ${res.stderr}`);
  const cluster = /--cluster (\S+)/.exec(res.stdout)?.[1];
  const token = /--token (\S+)/.exec(res.stdout)?.[1];
  if (!cluster || !token) throw new Error(`no join command in: ${res.stdout}`);
  if (!/--type server/.test(res.stdout)) throw new Error(`join command of server edge ${edge} lacks --type server`);
  return { cluster, token };
}

export interface ServerEdge {
  name: string;
  cluster: string;
  agent: AgentProcess;
}

/** Creates a server edge for sshd on `sshPort`, joins a server-mode agent and waits for Ready with keys pinned. */
export async function joinServerEdge(opts: {
  kc: string;
  hubURL: string;
  hubCAFile: string;
  name: string;
  sshPort: number;
  hostKeyLines: readonly string[];
  extraArgs?: string[];
}): Promise<ServerEdge> {
  const { kc, name } = opts;
  const created = await kedge([
    'edge',
    'create',
    name,
    '--type',
    'server',
    '--ssh-port',
    String(opts.sshPort),
    '--kubeconfig',
    kc,
  ]);
  if (created.code !== 0) throw new Error(`edge create ${name}: ${created.stderr}`);
  const { cluster, token } = await joinToken(kc, name);
  const agent = startAgent({
    hubURL: opts.hubURL,
    cluster,
    edge: name,
    token,
    hubCAFile: opts.hubCAFile,
    type: 'server',
    extraArgs: opts.extraArgs ?? [],
  });
  const want = fingerprints(opts.hostKeyLines);
  await eventually(
    async () => {
      const s = await edgeStatus(kc, name);
      if (s.phase !== 'Ready') throw new Error(`edge ${name} is ${s.phase}`);
      const got = fingerprints(s.sshHostKeys);
      if (JSON.stringify(got) !== JSON.stringify(want))
        throw new Error(`pinned ${got.join(',')} ≠ sshd ${want.join(',')}`);
    },
    { what: `server edge ${name} Ready with sshd's host keys pinned`, timeoutMs: 60_000, intervalMs: 250 },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\nagent output:\n${agent.output().slice(-3000)}`, { cause: err });
  });
  return { name, cluster, agent };
}

// ---- the raw endpoint ----------------------------------------------------------------------------------------

export interface Upgrade {
  /** 101 when the upgrade succeeded, else the HTTP status. */
  status: number;
  /** The refusal body (Status JSON), or on 101 the first bytes sshd sent (its version banner). */
  body: string;
}

/** One upgrade to `url` (wss://…/ssh) with the given headers; on 101 reads sshd's banner, then closes. */
export function sshUpgrade(
  url: string,
  caFile: string,
  opts: { token?: string; origin?: string; timeoutMs?: number } = {},
): Promise<Upgrade> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const ws = new WebSocket(url.replace(/^http/, 'ws'), {
    ca: readFileSync(caFile),
    headers,
    ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 15_000} ms`));
    }, opts.timeoutMs ?? 15_000);
    const done = (u: Upgrade): void => {
      clearTimeout(timer);
      resolve(u);
    };
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    let banner = '';
    ws.on('message', (data: Buffer) => {
      banner += data.toString('latin1');
      if (banner.includes('\n')) {
        ws.close(1000);
        done({ status: 101, body: banner });
      }
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
