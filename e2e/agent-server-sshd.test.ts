// The agent's host-key scanner and ssh relay (src/agent/server) against the real OpenSSH sshd (e2e/harness/sshd.ts,
// LogLevel DEBUG1 so its log shows every key exchange and authentication request), over an in-memory tunnel session
// pair: the "hub" side opens `ssh` streams, the "agent" side serves them with the server-mode handler. No kcp, no hub.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { probeHostKey, scanHostKeys } from '../src/agent/server/host-key-scan.ts';
import { serverStreams } from '../src/agent/server/server-agent.ts';
import { SshRelay } from '../src/agent/server/ssh-relay.ts';
import type { SshAddress } from '../src/agent/options.ts';
import { fingerprintOf, parseHostKey } from '../src/api/host-keys.ts';
import { StreamKind } from '../src/tunnel/index.ts';
import { sessionPair, streamError, testLogger } from '../src/tunnel/test-support.ts';
import type { SessionPair } from '../src/tunnel/test-support.ts';
import { freePort } from '../src/util/free-port.ts';
import { poll } from '../src/util/wait.ts';
import { startSshd, type Sshd } from './harness/sshd.ts';

let sshd: Sshd;
let addr: SshAddress;

beforeAll(async () => {
  sshd = await startSshd({ logLevel: 'DEBUG1' });
  addr = { host: '127.0.0.1', port: sshd.port };
});
afterAll(() => sshd?.stop());

/** A loopback port nothing listens on (one the kernel just handed out and closed). */
const closedPort = (): Promise<number> => freePort();

/** sshd's log from `from` (a length of log() taken earlier) on. */
const logSince = (from: number): string => sshd.log().slice(from);

describe('host-key scan against sshd', () => {
  it('reports every host key sshd has, with the fingerprints ssh-keygen prints, and never authenticates', async () => {
    const from = sshd.log().length;
    const result = await scanHostKeys(addr);
    expect(result.ok).toBe(true);
    const keys = result.ok ? result.keys : [];
    expect([...keys].sort()).toEqual([...sshd.hostKeyLines].sort());
    const fps = keys.map((k) => parseHostKey(k)?.fingerprint);
    expect([...fps].sort()).toEqual([...sshd.hostKeyFingerprints].sort());
    expect(keys.map((k) => k.split(' ')[0]).sort()).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    // sshd logs (DEBUG1) each key exchange it starts and every authentication request it gets.
    const kexinits = (): number => (logSince(from).match(/SSH2_MSG_KEXINIT received/g) ?? []).length;
    await poll(async () => kexinits() >= 3, { what: "sshd's log of the scan", timeoutMs: 5_000 });
    expect(logSince(from)).not.toMatch(/userauth-request|SERVICE_REQUEST|Invalid user|Failed /);
    expect(sshd.authenticationsSeen()).toBe(0);
  });

  it('reports exactly the host keys sshd has when it has fewer (here only ed25519)', async () => {
    const one = await startSshd({ hostKeyTypes: ['ed25519'] });
    try {
      const result = await scanHostKeys({ host: '127.0.0.1', port: one.port });
      expect(result).toEqual({ ok: true, keys: one.hostKeyLines });
      expect(one.hostKeyLines.map((l) => l.split(' ')[0])).toEqual(['ssh-ed25519']);
      expect(one.authenticationsSeen()).toBe(0);
    } finally {
      await one.stop();
    }
  });

  it('a key type sshd does not have is "not offered", and it learns which types sshd has', async () => {
    const o = await probeHostKey(addr, ['ecdsa-sha2-nistp384']);
    expect(o.kind).toBe('not-offered');
    expect(o.kind !== 'failed' && o.offered).toEqual(expect.arrayContaining(['ssh-ed25519', 'ecdsa-sha2-nistp256']));
  });

  it('an unreachable sshd fails the scan (the caller keeps its previous result)', async () => {
    expect(await scanHostKeys({ host: '127.0.0.1', port: await closedPort() })).toEqual({
      ok: false,
      code: 'ECONNREFUSED',
    });
  });
});

describe('ssh relay to sshd over a tunnel stream', () => {
  let pair: SessionPair;
  let relay: SshRelay;
  let target: SshAddress;

  beforeAll(async () => {
    relay = new SshRelay(async () => target, testLogger);
    pair = await sessionPair('memory', { onClientStream: serverStreams(relay, testLogger) });
  });
  afterAll(async () => {
    relay.close();
    await pair.close();
  });

  it("carries an SSH session: sshd's banner, the pinned host key, public-key login and a command's output", async () => {
    target = addr;
    const [from, auths] = [sshd.log().length, sshd.authenticationsSeen()];
    const stream = await pair.server.openStream({ kind: StreamKind.Ssh });
    const client = new Client();
    let presented = '';
    const output = await new Promise<{ out: string; err: string }>((resolve, reject) => {
      client.once('error', reject);
      client.once('ready', () => {
        client.exec('echo ok; echo err >&2', (err, ch) => {
          if (err) return reject(err);
          const got = { out: '', err: '' };
          ch.on('data', (d: Buffer) => (got.out += d.toString()));
          ch.stderr.on('data', (d: Buffer) => (got.err += d.toString()));
          ch.once('close', () => resolve(got));
        });
      });
      client.connect({
        sock: stream,
        username: sshd.user,
        privateKey: readFileSync(sshd.userKeyPath),
        hostVerifier: (blob: Buffer) => {
          presented = fingerprintOf(blob);
          return sshd.hostKeyFingerprints.includes(presented);
        },
      });
    });
    expect(output.out).toBe('ok\n');
    expect(output.err).toMatch(/(^|\n)err\n$/); // sshd at LogLevel DEBUG1 adds its own debug lines before it
    expect(sshd.hostKeyFingerprints).toContain(presented);
    // What the scan test above checks is absent does show up here.
    expect(logSince(from)).toMatch(/userauth-request/);
    expect(sshd.authenticationsSeen()).toBe(auths + 1);
    expect(relay.open).toBe(1);
    client.end();
    // The client's FIN reaches sshd, sshd's reaches the stream: the relay closes cleanly.
    await poll(async () => relay.open === 0, { what: 'the relay to close', timeoutMs: 5_000 });
    expect(relay.stats.failed).toBe(0);
  });

  it("the raw bytes are sshd's: the banner arrives unchanged", async () => {
    target = addr;
    const stream = await pair.server.openStream({ kind: StreamKind.Ssh });
    const banner = await new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    stream.destroy(); // the hub resets: sshd's connection goes too
    await poll(async () => relay.open === 0, { what: 'the relay to close', timeoutMs: 5_000 });
  });

  it('resets the stream when sshd cannot be reached', async () => {
    target = { host: '127.0.0.1', port: await closedPort() };
    const failedBefore = relay.stats.failed;
    const stream = await pair.server.openStream({ kind: StreamKind.Ssh });
    expect((await streamError(stream)).message).toMatch(/reset/);
    expect(relay.stats.failed).toBe(failedBefore + 1);
  });

  it('resets k8s streams: a server edge has no Kubernetes', async () => {
    const stream = await pair.server.openStream({ kind: StreamKind.K8s });
    stream.write('GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await streamError(stream)).message).toMatch(/reset/);
  });
});
