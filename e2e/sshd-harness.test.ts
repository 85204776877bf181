// The SSH test parts themselves, with no Kedge in between: the harness sshd answers a plain OpenSSH `ssh`, `scp`,
// `sftp`, `rsync -e ssh` and `ssh -L` with strict host key checking, counts connections and authentications, and
// rotates its host keys; the tmux terminal shows `stty size` and follows a resize, locally and through ssh -t.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseHostKey } from '../src/api/host-keys.ts';
import { freePort } from '../src/util/free-port.ts';
import { run } from './harness/cli.ts';
import { eventually } from './harness/http.ts';
import { startSshd, type Sshd } from './harness/sshd.ts';
import { startTerminal, TTY_MODES_COMMAND, TTY_MODES_LINE, type Terminal } from './harness/terminal.ts';

let sshd: Sshd;
let http: Server;
const dir = mkdtempSync(join(tmpdir(), 'kedge-sshd-harness-'));
const terminals: Terminal[] = [];

const target = (): string => `${sshd.user}@127.0.0.1`;
const ssh = (args: string[], input?: string) =>
  run(
    'ssh',
    [...sshd.directOptions(), '-p', String(sshd.port), target(), ...args],
    input === undefined ? {} : { input },
  );
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function terminal(): Promise<Terminal> {
  const t = await startTerminal();
  terminals.push(t);
  return t;
}

beforeAll(async () => {
  sshd = await startSshd();
  http = createServer((_req, res) => res.end('hello through the tunnel\n'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const t of terminals) await t.kill();
  await sshd?.stop();
  await new Promise((resolve) => http?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('the harness sshd', () => {
  it('presents three host keys whose fingerprints ssh-keygen and the contract agree on', () => {
    expect(sshd.hostKeyLines.map((l) => l.split(' ')[0])).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
    expect(sshd.hostKeyLines.map((l) => parseHostKey(l)?.fingerprint)).toEqual(sshd.hostKeyFingerprints);
    expect(new Set(sshd.hostKeyFingerprints).size).toBe(3);
  });

  it('runs a command for a plain ssh with StrictHostKeyChecking=yes, and counts the connection and the login', async () => {
    const [conns, auths] = [sshd.connectionsSeen(), sshd.authenticationsSeen()];
    const r = await ssh(['echo', 'ok']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(sshd.connectionsSeen()).toBe(conns + 1);
    expect(sshd.authenticationsSeen()).toBe(auths + 1);
    expect((await ssh(['sh', '-c', "'exit 7'"])).code).toBe(7);
  });

  it('refuses a key that is not in authorized_keys (the counters tell the difference)', async () => {
    const other = join(dir, 'other_key');
    await run('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-f', other]);
    const [conns, auths] = [sshd.connectionsSeen(), sshd.authenticationsSeen()];
    const opts = sshd.directOptions();
    opts[opts.indexOf(sshd.userKeyPath)] = other;
    const r = await run('ssh', [...opts, '-p', String(sshd.port), target(), 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(sshd.connectionsSeen()).toBe(conns + 1);
    expect(sshd.authenticationsSeen()).toBe(auths);
  });

  it('copies a file both ways with scp, lists with sftp and syncs with rsync -e ssh', async () => {
    const data = randomBytes(1 << 20);
    const local = join(dir, 'up.bin');
    writeFileSync(local, data);
    const remote = join(sshd.dir, 'remote.bin');
    const opts = [...sshd.directOptions(), '-P', String(sshd.port)];
    expect((await run('scp', [...opts, local, `${target()}:${remote}`])).code).toBe(0);
    expect(sha256(readFileSync(remote))).toBe(sha256(data));
    const back = join(dir, 'down.bin');
    expect((await run('scp', [...opts, `${target()}:${remote}`, back])).code).toBe(0);
    expect(sha256(readFileSync(back))).toBe(sha256(data));

    const batch = join(dir, 'batch');
    writeFileSync(batch, `cd ${sshd.dir}\nls -1\n`);
    const ls = await run('sftp', [...opts, '-b', batch, target()]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain('remote.bin');

    const src = join(dir, 'tree');
    writeFileSync(join(dir, 'seed'), 'x');
    await run('mkdir', ['-p', join(src, 'a')]);
    writeFileSync(join(src, 'a', 'f.txt'), 'rsynced\n');
    const e = ['ssh', ...sshd.directOptions(), '-p', String(sshd.port)].join(' ');
    const rs = await run('rsync', ['-a', '-e', e, `${src}/`, `${target()}:${join(sshd.dir, 'tree')}/`]);
    expect(rs.stderr).toBe('');
    expect(readFileSync(join(sshd.dir, 'tree', 'a', 'f.txt'), 'utf8')).toBe('rsynced\n');
  });

  it('forwards a local port with ssh -L to an HTTP server on the host', async () => {
    const addr = http.address();
    if (addr === null || typeof addr === 'string') throw new Error('no http port');
    const local = await freePort();
    const fwd = spawn(
      'ssh',
      [
        ...sshd.directOptions(),
        '-o',
        'ExitOnForwardFailure=yes',
        '-p',
        String(sshd.port),
        '-N',
        '-L',
        `${local}:127.0.0.1:${addr.port}`,
        target(),
      ],
      { stdio: 'ignore' },
    );
    try {
      const body = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${local}/`);
          return res.text();
        },
        { what: 'a GET through ssh -L', timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(body).toBe('hello through the tunnel\n');
    } finally {
      fwd.kill('SIGTERM');
    }
  });

  it('rotates its host keys: the old known_hosts is refused, the new one accepted, on the same port', async () => {
    const oldKnown = join(dir, 'known_hosts.old');
    writeFileSync(oldKnown, readFileSync(sshd.knownHostsFile));
    const before = sshd.hostKeyFingerprints;
    await sshd.regenerateHostKeys();
    await sshd.restart();
    expect(sshd.hostKeyFingerprints.some((f) => before.includes(f))).toBe(false);
    const auths = sshd.authenticationsSeen();
    const opts = sshd
      .directOptions()
      .map((o) => (o === `UserKnownHostsFile=${sshd.knownHostsFile}` ? `UserKnownHostsFile=${oldKnown}` : o));
    const refused = await run('ssh', [...opts, '-p', String(sshd.port), target(), 'true']);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    expect(sshd.authenticationsSeen()).toBe(auths);
    expect((await ssh(['echo', 'again'])).stdout).toBe('again\n');
  });
});

describe('the tmux terminal', () => {
  it('shows stty size and follows a resize', async () => {
    const t = await terminal();
    await t.line('stty size');
    await t.waitFor(/^24 80$/m);
    await t.resize(100, 30);
    await t.line('stty size');
    await t.waitFor(/^30 100$/m);
    await t.clear();
    expect(await t.screen()).not.toMatch(/^24 80$/m);
    // The mode probe tells raw from cooked (so the "terminal restored" checks can fail).
    await t.line(`stty raw -echo; ${TTY_MODES_COMMAND}; stty sane`);
    expect((await t.waitFor(TTY_MODES_LINE))[0]).toBe('-echo -icanon');
  });

  it('carries an interactive ssh -t session: typed input runs, resizes reach the remote pty, exit returns', async () => {
    const t = await terminal();
    const cmd = ['ssh', '-t', ...sshd.directOptions(), '-p', String(sshd.port), target()].join(' ');
    await t.line(cmd);
    await t.waitForeground('ssh');
    await t.line('echo $((6*7)); stty size');
    await t.waitFor(/^42\n24 80$/m);
    await t.resize(120, 40);
    await t.line('stty size');
    await t.waitFor(/^40 120$/m);
    await t.line('exit');
    await t.waitFor(/Connection to 127\.0\.0\.1 closed\./);
    await t.waitForeground('bash');
    // Back in the local shell, in cooked mode with echo ("-icanon -echo" while ssh held the terminal raw).
    await t.line('echo local-$((1+1))');
    await t.waitFor(/^local-2$/m);
    await t.line(TTY_MODES_COMMAND);
    expect((await t.waitFor(TTY_MODES_LINE))[0]).toBe('echo icanon');
  });
});
