// A server-mode agent end to end: real kcp + in-process hub + the real `kedge-agent --type server` child + the real
// OpenSSH sshd (e2e/harness/sshd.ts) on the port the Edge names (`kedge edge create --ssh-port`). The agent
// joins, the Edge turns Ready, it reads the sshd port from the Edge, scans sshd's host keys, and an `ssh` stream the
// hub opens on its tunnel reaches sshd (banner through the real WebSocket tunnel); a `k8s` stream is reset.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseHostKey } from '../src/api/host-keys.ts';
import type { Edge } from '../src/api/types.ts';
import { StreamKind } from '../src/tunnel/index.ts';
import { streamError } from '../src/tunnel/test-support.ts';
import { joinCommand, kedge, kedgeLogin, kubectlJSON, run } from './harness/cli.ts';
import { loadTestEnv } from './harness/env.ts';
import { eventually } from './harness/http.ts';
import { startTestHub } from './harness/hub.ts';
import type { TestHub } from './harness/hub.ts';
import { startSshd, type Sshd } from './harness/sshd.ts';

const sfx = randomBytes(3).toString('hex');
const tenant = `srv-${sfx}`;
const userToken = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-agent-server-e2e-'));
const NOBODY = 65534;
const kc = join(dir, 'user.kubeconfig');
const env = loadTestEnv();
const edge = 'pi';
const root = join(dir, 'root');
const unitFile = join(root, 'etc/systemd/system/kedge-agent-pi.service');

let hub: TestHub;
let sshd: Sshd;
let agent: ChildProcess | undefined;
let out = '';
let cluster = '';

/** Whether another user can reach this checkout and the Node binary (every directory above them searchable). */
function othersMayRun(): boolean {
  const searchable = (path: string): boolean => {
    for (let p = path; ; p = dirname(p)) {
      if ((statSync(p).mode & 0o001) === 0) return false;
      if (p === '/') return true;
    }
  };
  return searchable(dirname(realpathSync(process.execPath))) && searchable(process.cwd());
}

async function waitOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      if (!pattern.test(out)) throw new Error(`agent output so far:\n${out.slice(-3000)}`);
    },
    { what: `agent output ${pattern}`, timeoutMs, intervalMs: 100 },
  );
}

beforeAll(async () => {
  sshd = await startSshd();
  hub = await startTestHub([`${tenant}=${userToken}`], { controllers: { heartbeatIntervalMs: 5_000 } });
  await kedgeLogin(hub.hubURL, userToken, env.hubCAFile, kc);
  const created = await kedge([
    'edge',
    'create',
    edge,
    '--type',
    'server',
    '--ssh-port',
    `${sshd.port}`,
    '--kubeconfig',
    kc,
  ]);
  if (created.code !== 0) throw new Error(`edge create: ${created.stderr}`);
  const joined = await joinCommand(kc, edge);
  cluster = joined.cluster;
  // Installed the way a host's owner does (`kedge agent install`, below `root` instead of /), then started the way
  // systemd would start that unit: its ExecStart= with STATE_DIRECTORY and CREDENTIALS_DIRECTORY (the LoadCredential=
  // files) filled in, plus the test's short intervals. Unprivileged, as on a real host: when the tests run as root
  // the agent runs as nobody, with a home of its own (nothing else of root's is readable to it).
  const tokenFile = join(dir, 'join-token');
  writeFileSync(tokenFile, `${joined.token}\n`, { mode: 0o600 });
  const installed = await kedge([
    ...['agent', 'install', '--root', root, '--hub-url', hub.hubURL, '--cluster', cluster, '--edge', edge],
    ...['--token-file', tokenFile, '--hub-ca-file', env.hubCAFile],
  ]);
  if (installed.code !== 0) throw new Error(`agent install: ${installed.stderr}`);
  const unit = readFileSync(unitFile, 'utf8');
  const home = join(dir, 'agent-home');
  const creds = join(home, 'credentials');
  mkdirSync(creds, { recursive: true, mode: 0o700 });
  for (const m of unit.matchAll(/^LoadCredential=([^:]+):(.+)$/gm))
    copyFileSync(join(root, m[2] ?? ''), join(creds, m[1] ?? ''));
  const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? '';
  if (/["'\\]/.test(execStart)) throw new Error(`ExecStart needs unquoting: ${execStart}`);
  const argv = execStart
    .split(' ')
    .map((w) => w.replace('${STATE_DIRECTORY}', join(home, 'state')).replace('${CREDENTIALS_DIRECTORY}', creds));
  const asNobody = process.getuid?.() === 0 && othersMayRun() ? { uid: NOBODY, gid: NOBODY } : {};
  if (process.getuid?.() === 0 && asNobody.uid === undefined)
    console.warn('agent-server: the checkout is not readable by other users; the agent runs as root here');
  if (asNobody.uid !== undefined) {
    for (const p of [dir, home, creds, ...readdirSync(creds).map((f) => join(creds, f))]) chownSync(p, NOBODY, NOBODY);
  }
  agent = spawn(
    argv[0] ?? '',
    [...argv.slice(1), ...['--heartbeat-interval', '2s', '--keepalive-interval', '1s', '--keepalive-timeout', '2s']],
    {
      env: { ...process.env, HOME: home, KEDGE_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asNobody,
    },
  );
  agent.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  agent.stderr?.on('data', (b: Buffer) => (out += b.toString()));
}, 120_000);

afterAll(async () => {
  if (agent !== undefined && agent.exitCode === null) {
    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await hub?.stop();
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('server-mode agent', () => {
  it('is installed as a systemd unit that systemd-analyze verifies without a warning, the token only in a 0600 file', async () => {
    const verify = await run('systemd-analyze', ['verify', unitFile]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toMatch(/^DynamicUser=yes$/m);
    expect(unit).not.toContain(readFileSync(join(dir, 'join-token'), 'utf8').trim());
    expect(statSync(join(root, 'etc/kedge-agent/pi/join-token')).mode & 0o777).toBe(0o600);
    // The process that runs has no token among its arguments either.
    expect(readFileSync(`/proc/${agent?.pid}/cmdline`, 'utf8')).not.toContain(
      readFileSync(join(dir, 'join-token'), 'utf8').trim(),
    );
  });

  it('joins, turns the Edge Ready and reports its host', async () => {
    await eventually(
      async () => {
        const e = await kubectlJSON<Edge>(kc, ['get', 'edge', edge]);
        if (e.status?.phase !== 'Ready') throw new Error(`edge is ${e.status?.phase}`);
        expect(e.status.hostname).toBeTruthy();
      },
      { what: 'edge Ready', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(out).toMatch(/agent started \(server mode\)/);
    expect(out).not.toMatch(/client-node/);
    // It runs unprivileged: the effective uid of the live process is nobody's (or the non-root tester's).
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${agent?.pid}/status`, 'utf8'))?.[1];
    if (process.getuid?.() !== 0 || othersMayRun()) expect(Number(uid)).not.toBe(0);
  }, 90_000);

  it("reads sshd's port from the Edge and scans its host keys", async () => {
    await waitOutput(new RegExp(`"sshAddress":"127\\.0\\.0\\.1:${sshd.port}".*sshd's host keys"`));
    const line = out.split('\n').find((l) => l.includes(`"msg":"sshd's host keys"`)) ?? '';
    const fps = (JSON.parse(line) as { fingerprints: string[] }).fingerprints.map((f) => f.split(' ')[0]);
    expect(fps.sort()).toEqual([...sshd.hostKeyFingerprints].sort());
    expect(sshd.hostKeyLines.every((l) => parseHostKey(l) !== undefined)).toBe(true);
  }, 40_000);

  it('the hub pins the reported keys and keeps the host facts; HostKeyTrusted is True', async () => {
    const e = await eventually(
      async () => {
        const e = await kubectlJSON<Edge>(kc, ['get', 'edge', edge]);
        if (!e.status?.sshHostKeys?.length) throw new Error('no keys pinned yet');
        return e;
      },
      { what: 'host keys pinned', timeoutMs: 30_000, intervalMs: 250 },
    );
    const pinned = (e.status?.sshHostKeys ?? []).map((l) => parseHostKey(l)?.fingerprint);
    expect(pinned.sort()).toEqual([...sshd.hostKeyFingerprints].sort());
    expect(e.status?.sshHostKey).toBe(e.status?.sshHostKeys?.[0]);
    expect(e.status?.observedSSHHostKeys).toEqual(e.status?.sshHostKeys);
    expect(e.status).toMatchObject({ os: process.platform, kernelVersion: release() });
    expect(e.status?.architecture).toMatch(/^(amd64|arm64|arm|386|[a-z0-9]+)$/);
    await eventually(
      async () => {
        const c = (await kubectlJSON<Edge>(kc, ['get', 'edge', edge])).status?.conditions?.find(
          (x) => x.type === 'HostKeyTrusted',
        );
        expect(c).toMatchObject({ status: 'True', reason: 'Pinned' });
      },
      { what: 'HostKeyTrusted True', timeoutMs: 30_000, intervalMs: 250 },
    );
  }, 60_000);

  it('relays an ssh stream the hub opens to sshd, and resets k8s streams', async () => {
    const session = hub.edges?.tunnels.session(cluster, edge);
    expect(session).toBeDefined();
    const ssh = await session!.openStream({ kind: StreamKind.Ssh });
    const banner = await new Promise<string>((resolve) => ssh.once('data', (d: Buffer) => resolve(d.toString())));
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    ssh.destroy();
    const k8s = await session!.openStream({ kind: StreamKind.K8s });
    k8s.write('GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await streamError(k8s)).message).toMatch(/reset/);
  }, 30_000);
});
