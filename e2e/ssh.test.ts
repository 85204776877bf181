// SSH to a plain host end to end (issue 8), with real parts only: kcp, the hub, a server-mode `kedge-agent`, Debian's
// sshd (e2e/harness/sshd.ts) and OpenSSH's clients. The edge joins and its host keys are pinned; `kedge ssh` runs
// commands (exit status, binary-safe stdin/stdout, stderr apart) and an interactive shell in a real terminal;
// `kedge ssh-config` makes ssh, scp, sftp, ssh -L and rsync work through the hub with StrictHostKeyChecking yes;
// a new host key is refused before authentication until `kedge edge trust-host-key`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionType } from '../src/api/constants.ts';
import { freePort } from '../src/util/free-port.ts';
import { kedge, kedgeLogin, kubectlJSON, run } from './harness/cli.ts';
import { loadTestEnv, tool } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import {
  condition,
  edgeStatus,
  fingerprints,
  joinServerEdge,
  kedgeBinDir,
  kedgeCapture,
  sshEnv,
  tempHome,
  type ServerEdge,
} from './harness/ssh.ts';
import { startSshd, type Sshd } from './harness/sshd.ts';
import { startTerminal, TTY_MODES_COMMAND, TTY_MODES_LINE, type Terminal } from './harness/terminal.ts';

const sfx = randomBytes(3).toString('hex');
const tenant = `ssh-${sfx}`;
const userToken = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-ssh-e2e-'));
const kc = join(dir, 'user.kubeconfig');
const env = loadTestEnv();
const EDGE = 'h1';
const repo = new URL('../', import.meta.url).pathname;

let hub: TestHub | undefined;
let sshd: Sshd;
let edge: ServerEdge | undefined;
let http: Server | undefined;
let binDir: string;
let home: string;
const terminals: Terminal[] = [];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const userEnv = (h = home): Record<string, string> => sshEnv({ home: h, kubeconfig: kc, binDir });
/** `kedge ssh -i <the authorised key> h1 -- <words>`. */
const kssh = (words: string[], opts: { input?: Buffer | string; timeoutMs?: number } = {}) =>
  kedgeCapture(['ssh', '-i', sshd.userKeyPath, EDGE, '--', ...words], userEnv(), opts);

beforeAll(async () => {
  sshd = await startSshd();
  binDir = kedgeBinDir();
  home = tempHome();
  hub = await startTestHub([`${tenant}=${userToken}`]);
  await kedgeLogin(hub.hubURL, userToken, env.hubCAFile, kc);
  // Rescans every 2 s so the rotation test sees the new keys soon.
  edge = await joinServerEdge({
    kc,
    hubURL: hub.hubURL,
    hubCAFile: env.hubCAFile,
    name: EDGE,
    sshPort: sshd.port,
    hostKeyLines: sshd.hostKeyLines,
    extraArgs: ['--host-key-interval', '2s'],
  });
  http = createServer((_req, res) => res.end('hello from the host\n'));
  await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
}, 180_000);

afterAll(async () => {
  for (const t of terminals) await t.kill().catch(() => {});
  await edge?.agent.kill().catch(() => {});
  await hub?.stop();
  await sshd?.stop();
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  if (!process.env.KEDGE_TEST_KEEP)
    for (const d of [dir, binDir, home]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('a server edge', () => {
  it('is Ready with the facts of its host and every sshd host key pinned; its URL ends in /ssh', async () => {
    const s = await edgeStatus(kc, EDGE);
    expect(s).toMatchObject({ phase: 'Ready', connected: true, os: 'linux', hostname: expect.any(String) });
    expect(s.kernelVersion).toMatch(/^\d+\.\d+/);
    expect(s.architecture).toMatch(/^(amd64|arm64|x64|x86_64|aarch64)$/);
    expect(fingerprints(s.sshHostKeys)).toEqual([...sshd.hostKeyFingerprints].sort());
    expect(s.sshHostKeys).toContain(s.sshHostKey);
    expect(condition(s, ConditionType.HostKeyTrusted).status).toBe('True');
    expect(String(s.URL)).toMatch(/\/edges\/h1\/ssh$/);
    const get = await kedge(['edge', 'get', EDGE, '--kubeconfig', kc]);
    expect(sshd.hostKeyFingerprints.some((f) => get.stdout.includes(f))).toBe(true);
  });
});

describe('kedge ssh NAME -- COMMAND', () => {
  it('runs the command and prints its output', async () => {
    const auths = sshd.authenticationsSeen();
    const r = await kssh(['echo', 'ok']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('ok\n');
    expect(r.code).toBe(0);
    expect(sshd.authenticationsSeen()).toBe(auths + 1);
  });

  it("exits with the remote command's status; several words are arguments, one word a command line", async () => {
    expect((await kssh(['sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await kssh(['exit 7'])).code).toBe(7);
    const r = await kssh(['printf', '%s|', 'a b', "it's", '$HOME']);
    expect(r.stdout.toString()).toBe("a b|it's|$HOME|");
    // A signal ends the remote command: 128+n, as a shell reports it.
    expect((await kssh(['kill -TERM $$'])).code).toBe(143);
  });

  it('works as `kubectl kedge ssh` through the real kubectl (the plugin on PATH)', async () => {
    const pluginDir = mkdtempSync(join(dir, 'plugin-'));
    symlinkSync(join(repo, 'bin', 'kubectl-kedge'), join(pluginDir, 'kubectl-kedge'));
    const e = userEnv();
    const r = await run(tool('kubectl'), ['kedge', 'ssh', '-i', sshd.userKeyPath, EDGE, '--', 'echo', 'ok'], {
      env: { ...e, PATH: `${pluginDir}:${e.PATH ?? ''}` },
    });
    expect([r.code, r.stdout]).toEqual([0, 'ok\n']);
  });

  it('passes 16 MiB of random bytes through cat unchanged', async () => {
    const data = randomBytes(16 << 20);
    const r = await kssh(['cat'], { input: data, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(data.length);
    expect(sha256(r.stdout)).toBe(sha256(data));
  }, 150_000);

  it('keeps stderr on stderr and stdout on stdout', async () => {
    const r = await kssh(['echo out; echo err >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('finds the default ~/.ssh/id_ed25519 without -i, and fails without any key before logging in', async () => {
    const withKey = tempHome(sshd.userKeyPath);
    const ok = await kedgeCapture(['ssh', EDGE, '--', 'echo', 'default-key'], userEnv(withKey));
    expect(ok.stderr).toBe('');
    expect(ok.stdout.toString()).toBe('default-key\n');
    const auths = sshd.authenticationsSeen();
    const none = tempHome();
    const refused = await kedgeCapture(['ssh', EDGE, '--', 'true'], userEnv(none), { timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/auth|key|denied/i);
    expect(sshd.authenticationsSeen()).toBe(auths);
    rmSync(withKey, { recursive: true, force: true });
    rmSync(none, { recursive: true, force: true });
  });
});

describe('kedge ssh NAME in a terminal', () => {
  it('gives an interactive shell: typed commands run, TERM and resizes reach the host, exit restores the terminal', async () => {
    const t = await startTerminal({ env: userEnv() });
    terminals.push(t);
    await t.line('echo "local-term=$TERM"');
    const localTerm = (await t.waitFor(/^local-term=(\S+)$/m))[1];
    await t.line(`kedge ssh -i ${sshd.userKeyPath} ${EDGE}`);
    await t.line('echo $((6*7))');
    await t.waitFor(/^42$/m, 30_000);
    await t.line('echo "term=$TERM"; stty size');
    const [, remoteTerm] = await t.waitFor(/^term=(\S+)\n24 80$/m);
    expect(remoteTerm).toBe(localTerm);
    await t.resize(100, 30);
    await t.line('stty size');
    await t.waitFor(/^30 100$/m);
    await t.line('exit');
    await t.waitForeground('bash');
    await t.clear();
    await t.line(TTY_MODES_COMMAND);
    expect((await t.waitFor(TTY_MODES_LINE))[0]).toBe('echo icanon');
  });
});

describe('OpenSSH through kedge ssh-config', () => {
  const cfg = join(dir, 'ssh_config');
  const openssh = (cmd: string, args: string[]) =>
    run(cmd, ['-F', cfg, '-i', sshd.userKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', ...args], {
      env: userEnv(),
    });
  const alias = `root@${EDGE}.kedge`;

  beforeAll(async () => {
    const r = await kedge(['ssh-config', '--suffix', 'kedge'], userEnv());
    if (r.code !== 0) throw new Error(`kedge ssh-config: ${r.stderr}`);
    writeFileSync(cfg, r.stdout);
  });

  it('writes a Host block with a ProxyCommand through kedge and strict host key checking', () => {
    const text = readFileSync(cfg, 'utf8');
    expect(text).toMatch(/^Host h1\.kedge$/m);
    expect(text).toMatch(/^\s*ProxyCommand .*ssh --proxy h1/m);
    expect(text).toMatch(/^\s*StrictHostKeyChecking yes$/m);
    const known = /^\s*UserKnownHostsFile (\S+)$/m.exec(text)?.[1];
    expect(known).toBeDefined();
    const lines = readFileSync(String(known), 'utf8');
    for (const l of sshd.hostKeyLines) expect(lines).toContain(l.split(' ')[1]);
  });

  it('runs ssh -F cfg h1.kedge', async () => {
    const r = await openssh('ssh', [alias, 'echo', 'via-openssh']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'via-openssh\n' });
  });

  it('copies a file both ways with scp', async () => {
    const data = randomBytes(3 << 20);
    const up = join(dir, 'up.bin');
    writeFileSync(up, data);
    const remote = join(sshd.dir, 'scp-up.bin');
    expect((await openssh('scp', [up, `${alias}:${remote}`])).code).toBe(0);
    expect(sha256(readFileSync(remote))).toBe(sha256(data));
    const down = join(dir, 'down.bin');
    expect((await openssh('scp', [`${alias}:${remote}`, down])).code).toBe(0);
    expect(sha256(readFileSync(down))).toBe(sha256(data));
  });

  it('lists a directory with sftp', async () => {
    const listed = join(sshd.dir, 'sftp-dir');
    mkdirSync(listed, { recursive: true });
    writeFileSync(join(listed, 'hello.txt'), 'hi');
    const batch = join(dir, 'sftp-batch');
    writeFileSync(batch, `ls -1 ${listed}\n`);
    const r = await openssh('sftp', ['-b', batch, alias]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello.txt');
  });

  it('forwards a local port with ssh -L to an HTTP server on the host', async () => {
    const addr = http?.address();
    if (!addr || typeof addr === 'string') throw new Error('no http server');
    const local = await freePort();
    const fwd = spawn(
      'ssh',
      [
        '-F',
        cfg,
        '-i',
        sshd.userKeyPath,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'ExitOnForwardFailure=yes',
      ].concat(['-N', '-L', `${local}:127.0.0.1:${addr.port}`, alias]),
      { env: userEnv(), stdio: 'ignore' },
    );
    try {
      const body = await eventually(async () => (await fetch(`http://127.0.0.1:${local}/`)).text(), {
        what: 'a GET through ssh -L via the hub',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect(body).toBe('hello from the host\n');
    } finally {
      fwd.kill('SIGTERM');
    }
  });

  it('syncs a tree with rsync -e "ssh -F cfg"', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'f.txt'), 'rsynced through the hub\n');
    const e = `ssh -F ${cfg} -i ${sshd.userKeyPath} -o IdentitiesOnly=yes -o BatchMode=yes`;
    const dest = join(sshd.dir, 'rsync-dest');
    const r = await run('rsync', ['-a', '-e', e, `${src}/`, `${alias}:${dest}/`], { env: userEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dest, 'sub', 'f.txt'), 'utf8')).toBe('rsynced through the hub\n');
  });
});

describe('git over SSH through the hub', () => {
  it('pushes to and clones from a bare repository on the host', async () => {
    const cfg = join(dir, 'ssh_config'); // written by the OpenSSH suite above
    const bare = join(sshd.dir, 'repo.git');
    expect((await run('git', ['init', '-q', '--bare', bare])).code).toBe(0);
    const work = join(dir, 'work');
    const git = (args: string[], cwd = work) =>
      run('git', ['-C', cwd, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], {
        env: {
          ...userEnv(),
          GIT_SSH_COMMAND: `ssh -F ${cfg} -i ${sshd.userKeyPath} -o IdentitiesOnly=yes -o BatchMode=yes`,
        },
      });
    mkdirSync(work);
    expect((await git(['init', '-q', '-b', 'main'])).code).toBe(0);
    writeFileSync(join(work, 'README'), 'pushed through the hub\n');
    expect((await git(['add', 'README'])).code).toBe(0);
    expect((await git(['commit', '-q', '-m', 'first'])).code).toBe(0);
    const push = await git(['push', '-q', `root@${EDGE}.kedge:${bare}`, 'main']);
    expect([push.code, push.stderr]).toEqual([0, '']);
    const clone = join(dir, 'clone');
    const cl = await git(['clone', '-q', '-b', 'main', `root@${EDGE}.kedge:${bare}`, clone], dir);
    expect([cl.code, cl.stderr]).toEqual([0, '']);
    expect(readFileSync(join(clone, 'README'), 'utf8')).toBe('pushed through the hub\n');
  });
});

describe('audit', () => {
  it('records each session as an Event on the Edge and in /metrics (no edge or user names as labels)', async () => {
    const before = Date.now();
    expect((await kssh(['echo', 'audited'])).code).toBe(0);
    const events = await eventually(
      async () => {
        const list = await kubectlJSON<{
          items: { reason: string; message: string; lastTimestamp: string; type: string }[];
        }>(kc, [
          'get',
          'events',
          '-n',
          'default',
          '--field-selector',
          `involvedObject.kind=Edge,involvedObject.name=${EDGE}`,
          '-o',
          'json',
        ]);
        const mine = list.items.filter(
          (e) => e.reason === 'SSHSession' && Date.parse(e.lastTimestamp) >= before - 1000,
        );
        if (mine.length === 0) throw new Error('no SSHSession Event yet');
        return mine;
      },
      { what: 'an SSHSession Event on the Edge' },
    );
    expect(events[0]?.type).toBe('Normal');
    expect(events[0]?.message).toMatch(
      /^SSH session of kedge:static:.* bytes to the edge, \d+ bytes to the client; ended: /,
    );
    const metrics = (await hubRequest(hub!.hubURL, hub!.caFile, 'GET', '/metrics')).body;
    const ended = [...metrics.matchAll(/^kedge_hub_ssh_sessions_total\{ended="(\w+)"\} (\d+)/gm)];
    expect(ended.reduce((n, m) => n + Number(m[2]), 0)).toBeGreaterThan(0);
    expect(metrics).toMatch(/^kedge_hub_ssh_bytes_total\{direction="to_edge"\} [1-9]/m);
    expect(metrics).toMatch(/^kedge_hub_ssh_sessions_open 0$/m);
    expect(metrics).not.toContain(EDGE + '"');
  });
});

// Last: it changes sshd's host keys.
describe('a changed host key', () => {
  it('is refused before authentication, naming both fingerprints, until kedge edge trust-host-key', async () => {
    const pinned = [...sshd.hostKeyFingerprints];
    const observedBefore = fingerprints((await edgeStatus(kc, EDGE)).observedSSHHostKeys);
    await sshd.regenerateHostKeys();
    await sshd.restart();
    const fresh = [...sshd.hostKeyFingerprints];

    const auths = sshd.authenticationsSeen();
    const refused = await kssh(['true'], { timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(pinned.some((f) => refused.stderr.includes(f))).toBe(true);
    expect(fresh.some((f) => refused.stderr.includes(f))).toBe(true);
    expect(sshd.authenticationsSeen()).toBe(auths);

    // The agent rescans (--host-key-interval 2s); the hub keeps the pin and says so in a condition.
    const s = await eventually(
      async () => {
        const st = await edgeStatus(kc, EDGE);
        // A scan while the key files are being replaced can see part of them (sshd reads its keys per connection):
        // wait for the whole new set.
        const observed = fingerprints(st.observedSSHHostKeys);
        if (JSON.stringify(observed) !== JSON.stringify([...fresh].sort()))
          throw new Error(`observed ${observed.join(' ')}; before ${observedBefore.join(' ')}`);
        if (condition(st, ConditionType.HostKeyTrusted).status !== 'False') throw new Error('condition not False yet');
        return st;
      },
      { what: 'the new keys observed and HostKeyTrusted False', timeoutMs: 30_000 },
    );
    expect(fingerprints(s.observedSSHHostKeys)).toEqual([...fresh].sort());
    expect(fingerprints(s.sshHostKeys)).toEqual([...pinned].sort());
    expect(condition(s, ConditionType.HostKeyTrusted).reason).toBe('HostKeyChanged');
    // Still refused: nothing re-pins silently.
    expect((await kssh(['true'], { timeoutMs: 30_000 })).code).not.toBe(0);
    expect(sshd.authenticationsSeen()).toBe(auths);

    const trust = await kedge(['edge', 'trust-host-key', EDGE, '--yes', '--kubeconfig', kc]);
    expect(trust.code).toBe(0);
    expect(fresh.some((f) => trust.stdout.includes(f))).toBe(true);
    await eventually(
      async () => {
        const st = await edgeStatus(kc, EDGE);
        if (condition(st, ConditionType.HostKeyTrusted).status !== 'True') throw new Error('condition not True yet');
        expect(fingerprints(st.sshHostKeys)).toEqual([...fresh].sort());
      },
      { what: 'HostKeyTrusted True with the new keys pinned' },
    );
    const ok = await kssh(['echo', 'trusted-again']);
    expect(ok.stdout.toString()).toBe('trusted-again\n');
    expect(sshd.authenticationsSeen()).toBe(auths + 1);
  }, 120_000);
});
