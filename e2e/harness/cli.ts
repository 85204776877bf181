// Runs the real binaries a user would: the kedge CLI (under Node 24) and kubectl with its kcp plugins on PATH.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { poll } from '../../src/util/wait.ts';
import { toolsBin } from './env.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const repo = new URL('../../', import.meta.url).pathname;

export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: repo,
        env: {
          ...process.env,
          PATH: `${toolsBin()}:${join(repo, 'node_modules', '.bin')}:${process.env.PATH}`,
          ...opts.env,
        },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 << 20,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function kedge(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run(process.execPath, [join(repo, 'bin', 'kedge.js'), ...args], { env });
}

/** `kedge login` into `kubeconfig` (token in the environment, as a user would keep it out of `ps`); throws on failure. */
export async function kedgeLogin(hubURL: string, token: string, caFile: string, kubeconfig: string): Promise<void> {
  const args = ['login', '--hub-url', hubURL, '--certificate-authority', caFile, '--kubeconfig', kubeconfig];
  const res = await kedge(args, { KEDGE_TOKEN: token });
  if (res.code !== 0) throw new Error(`kedge login failed: ${res.stderr}`);
}

/** kubectl with KUBECONFIG set (plugins such as `kubectl ws` refuse flags before the plugin name). */
export function kubectl(kubeconfig: string, args: string[], opts: { input?: string } = {}): Promise<RunResult> {
  return run(join(toolsBin(), 'kubectl'), args, { ...opts, env: { KUBECONFIG: kubeconfig } });
}

/** kubectl that must succeed: returns stdout, throws with stderr otherwise. */
export async function kubectlOK(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(kubeconfig, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `kubectl … -o json`, parsed. */
export async function kubectlJSON<T>(kubeconfig: string, args: string[]): Promise<T> {
  return JSON.parse(await kubectlOK(kubeconfig, [...args, '-o', 'json'])) as T;
}

/** `kedge edge join-command EDGE` (extra flags such as `--ttl`): the logical cluster and the single-use token. */
export async function joinCommand(
  kubeconfig: string,
  edge: string,
  extra: string[] = [],
): Promise<{ cluster: string; token: string }> {
  const res = await kedge(['edge', 'join-command', edge, '--kubeconfig', kubeconfig, ...extra]);
  const m = /kedge agent join --hub-url \S+ --cluster (\S+) --edge \S+ --token (\S+)/.exec(res.stdout);
  if (res.code !== 0 || !m?.[1] || !m[2]) throw new Error(`join-command ${edge}: ${res.stderr}${res.stdout}`);
  return { cluster: m[1], token: m[2] };
}

/** `kubectl port-forward TARGET :PORT` running until stop(); resolves once kubectl listens, with its local port. */
export async function portForward(
  kubeconfig: string,
  args: string[],
): Promise<{ localPort: number; stop: () => void }> {
  const pf = spawn(join(toolsBin(), 'kubectl'), ['--kubeconfig', kubeconfig, 'port-forward', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  pf.stdout.on('data', (c: Buffer) => (out += c.toString()));
  pf.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const localPort = await poll(
      async () => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (!m) throw new Error(out || 'no output yet');
        return Number(m[1]);
      },
      { what: `kubectl port-forward ${args.join(' ')} listening`, timeoutMs: 20_000, intervalMs: 100 },
    );
    return { localPort, stop: () => pf.kill() };
  } catch (err) {
    pf.kill();
    throw err;
  }
}
