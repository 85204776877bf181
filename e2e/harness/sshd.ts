// A real OpenSSH sshd (Debian's openssh-server, /usr/sbin/sshd) for every SSH suite and benchmark: its own config,
// host keys (ed25519, ecdsa, rsa by default), user key and authorized_keys in a temp dir, on a free loopback port. Its
// log (LogLevel VERBOSE) tells a test whether any byte reached it ("Connection from") and whether anyone
// authenticated; at DEBUG1 it also shows each key exchange and authentication request ("never authenticates" checks).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.ts';
import { poll } from '../../src/util/wait.ts';
import { run } from './cli.ts';

export const SSHD_BINARY = '/usr/sbin/sshd';
export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';
export const HOST_KEY_TYPES: readonly HostKeyType[] = ['ed25519', 'ecdsa', 'rsa'];

export interface SshdOptions {
  /** The host keys sshd has, in this order (default HOST_KEY_TYPES). */
  hostKeyTypes?: readonly HostKeyType[];
  /**
   * VERBOSE (default): connections and logins. DEBUG1 adds "SSH2_MSG_KEXINIT received" per key exchange and
   * "userauth-request" per authentication request, and sshd sends debug lines to a session's stderr.
   */
  logLevel?: 'VERBOSE' | 'DEBUG1';
}

export interface Sshd {
  port: number;
  dir: string;
  /** `SHA256:…` of each host key, in hostKeyTypes order (as `ssh-keygen -lf` prints them). */
  readonly hostKeyFingerprints: string[];
  /** Each host key in authorized_keys form, "<type> <base64>" (the form Edge.status.sshHostKeys holds). */
  readonly hostKeyLines: string[];
  /** A known_hosts file for `[127.0.0.1]:<port>` with the current host keys (rewritten by regenerateHostKeys). */
  knownHostsFile: string;
  /** The user's private key (ed25519, no passphrase); its public half is in authorized_keys. */
  userKeyPath: string;
  userPublicKey: string;
  /** The login name the key is authorised for (sshd runs as root here, so `root`). */
  user: string;
  logPath: string;
  /** "Connection from" lines so far: a TCP connection that reached sshd. */
  connectionsSeen(): number;
  /** "Accepted publickey" lines so far: successful user authentications. */
  authenticationsSeen(): number;
  log(): string;
  /** Options for a direct `ssh`/`scp`/`sftp` to this sshd with strict host key checking (no ~/.ssh involved). */
  directOptions(): string[];
  /** Replaces every host key with a fresh one (the running sshd keeps the old ones until restart()). */
  regenerateHostKeys(): Promise<void>;
  /** Stops and starts sshd on the same port (with whatever host keys are on disk now). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** sshd_config for the harness: loopback only, public keys only, forwarding and sftp on, verbose (or debug) log. */
export function sshdConfig(dir: string, port: number, opts: SshdOptions = {}): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${port}`,
    ...(opts.hostKeyTypes ?? HOST_KEY_TYPES).map((t) => `HostKey ${join(dir, `ssh_host_${t}_key`)}`),
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    'Subsystem sftp internal-sftp',
    // TERM travels in the pty-req anyway; LANG/LC_* as Debian's default config accepts them.
    'AcceptEnv LANG LC_* TERM',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // Benchmarks and tests open sessions in bursts; the default 10:30:100 would drop some unauthenticated ones.
    'MaxStartups 100',
    `LogLevel ${opts.logLevel ?? 'VERBOSE'}`,
    '',
  ].join('\n');
}

async function keygen(args: string[]): Promise<string> {
  const r = await run('ssh-keygen', args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function newKey(path: string, type: string): Promise<void> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await keygen(['-q', '-N', '', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-C', '', '-f', path]);
}

/** "256 SHA256:abc… comment (ED25519)" → "SHA256:abc…". */
async function fingerprint(pubFile: string): Promise<string> {
  const out = await keygen(['-lf', pubFile]);
  const m = /\s(SHA256:[A-Za-z0-9+/]+)\s/.exec(out);
  if (!m?.[1]) throw new Error(`no fingerprint in ssh-keygen -lf ${pubFile}: ${out}`);
  return m[1];
}

function keyLineOf(pubFile: string): string {
  const [type, b64] = readFileSync(pubFile, 'utf8').trim().split(/\s+/);
  if (!type || !b64) throw new Error(`${pubFile} is not a public key`);
  return `${type} ${b64}`;
}

function countLines(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const types = opts.hostKeyTypes ?? HOST_KEY_TYPES;
  if (types.length === 0) throw new Error('startSshd: sshd needs at least one host key type');
  if (!existsSync(SSHD_BINARY))
    throw new Error(`${SSHD_BINARY} is missing: install openssh-server (make test runs hack/tools/os-packages.sh)`);
  // The privilege-separation directory Debian's sshd insists on (normally made by its systemd unit).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'kedge-sshd-'));
  const port = await freePort();
  const cfg = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  const knownHostsFile = join(dir, 'known_hosts');
  const userKeyPath = join(dir, 'id_ed25519');
  writeFileSync(cfg, sshdConfig(dir, port, opts));
  await newKey(userKeyPath, 'ed25519');
  const userPublicKey = readFileSync(`${userKeyPath}.pub`, 'utf8').trim();
  writeFileSync(join(dir, 'authorized_keys'), `${userPublicKey}\n`, { mode: 0o600 });

  let fingerprints: string[] = [];
  let lines: string[] = [];
  const makeHostKeys = async (): Promise<void> => {
    await Promise.all(types.map((t) => newKey(join(dir, `ssh_host_${t}_key`), t)));
    const pubs = types.map((t) => join(dir, `ssh_host_${t}_key.pub`));
    fingerprints = await Promise.all(pubs.map(fingerprint));
    lines = pubs.map(keyLineOf);
    writeFileSync(knownHostsFile, lines.map((l) => `[127.0.0.1]:${port} ${l}\n`).join(''));
  };
  await makeHostKeys();

  const readLog = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  let child: ChildProcess | undefined;
  const groups: number[] = [];
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const listening = `Server listening on 127.0.0.1 port ${port}.`;
    const before = countLines(readLog(), listening);
    // Appends: one log across restarts, so the counters are cumulative.
    const fd = openSync(logPath, 'a');
    // Its own process group: the per-connection children outlive a restart (as with a real `systemctl restart
    // ssh`), and stop() ends them all.
    const c = spawn(SSHD_BINARY, ['-D', '-e', '-f', cfg], { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    if (c.pid !== undefined) groups.push(c.pid);
    let gone = false;
    exited = new Promise((resolve) =>
      c.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    child = c;
    // Ready once sshd logs that it listens (no probe connection, which would count as a connection seen).
    await poll(
      async () => {
        if (gone) throw new Error(`sshd exited at start:\n${readLog().slice(-2000)}`);
        return countLines(readLog(), listening) > before;
      },
      { what: `sshd listening on 127.0.0.1:${port}`, timeoutMs: 15_000, intervalMs: 50 },
    );
  };

  const terminate = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    port,
    dir,
    get hostKeyFingerprints() {
      return fingerprints;
    },
    get hostKeyLines() {
      return lines;
    },
    knownHostsFile,
    userKeyPath,
    userPublicKey,
    user: 'root',
    logPath,
    connectionsSeen: () => countLines(readLog(), 'Connection from '),
    authenticationsSeen: () => countLines(readLog(), 'Accepted publickey '),
    log: readLog,
    directOptions: () => [
      '-F',
      '/dev/null',
      '-i',
      userKeyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
    ],
    regenerateHostKeys: makeHostKeys,
    async restart() {
      await terminate();
      await launch();
    },
    async stop() {
      await terminate();
      for (const g of groups) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          // ESRCH: that group has no process left.
        }
      }
      if (!process.env.KEDGE_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
