// Test helper (private to src/agent/server tests): the real OpenSSH sshd on a free loopback port with its own config,
// host keys, client key and authorized_keys in a temp dir. Fails loudly when sshd is missing: a test that needs it
// must not pass without it. (e2e/harness/sshd.ts is the shared harness for the end-to-end suites.)
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { poll } from '../../util/wait.ts';

export const SSHD = '/usr/sbin/sshd';

export type HostKeyKind = 'ed25519' | 'ecdsa' | 'rsa';

export interface TestSshd {
  port: number;
  dir: string;
  /** `<type> <base64>` of each host key, from the .pub files. */
  hostKeyLines: string[];
  /** `SHA256:…` per host key, as `ssh-keygen -lf <key>.pub` prints it. */
  fingerprints: string[];
  /** Private key (OpenSSH PEM) that authorized_keys accepts for `user`. */
  clientKey: Buffer;
  user: string;
  /** sshd's log so far (-e: to stderr). */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function canConnect(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(undefined));
  });
}

export async function startTestSshd(kinds: HostKeyKind[] = ['ed25519', 'ecdsa', 'rsa']): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (apt-get install openssh-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'kedge-sshd-'));
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  const keygen = (args: string[]): string => execFileSync('ssh-keygen', args, { encoding: 'utf8' });
  const hostKeyFiles = kinds.map((k) => {
    const file = join(dir, `ssh_host_${k}_key`);
    keygen(['-q', '-N', '', '-t', k, ...(k === 'rsa' ? ['-b', '2048'] : []), '-f', file]);
    return file;
  });
  keygen(['-q', '-N', '', '-t', 'ed25519', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const port = await freePort();
  const cfg = join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeyFiles.map((f) => `HostKey ${f}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'LogLevel DEBUG1',
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (log += d.toString('utf8')));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await poll(
      async () => {
        if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log}`);
        return canConnect(port);
      },
      { what: `sshd listening on 127.0.0.1:${port}`, timeoutMs: 10_000, intervalMs: 50 },
    );
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const pubs = hostKeyFiles.map((f) => readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '));
  const fingerprints = hostKeyFiles.map((f) => keygen(['-lf', `${f}.pub`]).split(/\s+/)[1] ?? '');
  return {
    port,
    dir,
    hostKeyLines: pubs,
    fingerprints,
    clientKey: readFileSync(join(dir, 'client_key')),
    user: userInfo().username,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
