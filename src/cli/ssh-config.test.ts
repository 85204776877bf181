import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { hostKeyLine } from '../api/host-keys.ts';
import type { EdgeObject } from './edge-crud.ts';
import { writeFileAtomic } from '../util/write-file-atomic.ts';
import { checkSuffix, configPath, launcher, mergeKnownHosts, renderSshConfig } from './ssh-config.ts';
import { shellQuote } from './ssh-args.ts';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}
const ed = hostKeyLine(blob('ssh-ed25519', 'a'.repeat(36))) ?? '';
const rsa = hostKeyLine(blob('ssh-rsa', 'c'.repeat(200))) ?? '';
const server = (name: string, keys: string[]): EdgeObject => ({
  metadata: { name },
  spec: { type: 'server' },
  status: keys.length > 0 ? { sshHostKeys: keys, sshHostKey: keys[0] } : {},
});

describe('quoting for OpenSSH', () => {
  test.each([
    ['/usr/local/bin/kedge', '/usr/local/bin/kedge'],
    ['/opt/my kedge/kedge', "'/opt/my kedge/kedge'"],
    ["/o'brien/kedge", "'/o'\\''brien/kedge'"],
    ['$(rm -rf /)', "'$(rm -rf /)'"],
    ['', "''"],
  ])('shellQuote(%j) = %s', (word, want) => {
    expect(shellQuote(word)).toBe(want);
  });

  test('shellQuote round-trips through sh', () => {
    const words = ['a b', "it's", '$HOME', '`x`', '"q"', 'back\\slash', 'new\nline'];
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(words);
  });

  test('config paths: spaces double-quoted, % doubled, quotes refused', () => {
    expect(configPath('/home/a/.kedge/known_hosts')).toBe('/home/a/.kedge/known_hosts');
    expect(configPath('/home/a b/100%/kh')).toBe('"/home/a b/100%%/kh"');
    expect(() => configPath('/x"y')).toThrow('quote or newline');
  });

  test('suffix must be a host name part', () => {
    expect(() => checkSuffix('kedge')).not.toThrow();
    expect(() => checkSuffix('corp.kedge')).not.toThrow();
    expect(() => checkSuffix('a b')).toThrow('--suffix');
    expect(() => checkSuffix('.kedge')).toThrow('--suffix');
  });
});

describe('renderSshConfig', () => {
  test('one block per server edge with pinned keys, a comment for one without', () => {
    const text = renderSshConfig([server('pi', [ed, rsa]), server('nas', [])], {
      suffix: 'kedge',
      knownHostsFile: '/home/u/.kedge/known_hosts',
      launcher: ['/opt/kedge 1/bin/kedge'],
      kubeconfig: '/home/u/kc',
      context: 'kedge',
    });
    expect(text).toContain(
      [
        'Host pi.kedge',
        '  HostName pi',
        '  HostKeyAlias pi.kedge',
        "  ProxyCommand '/opt/kedge 1/bin/kedge' ssh --proxy --kubeconfig /home/u/kc --context kedge pi",
        '  UserKnownHostsFile /home/u/.kedge/known_hosts',
        '  StrictHostKeyChecking yes',
      ].join('\n'),
    );
    expect(text).toMatch(/^# nas\.kedge: no host key is pinned yet/m);
    expect(text).not.toContain('Host nas.kedge');
  });

  test('% in the launcher path is escaped for ssh_config tokens', () => {
    const text = renderSshConfig([server('pi', [ed])], {
      suffix: 'k',
      knownHostsFile: '/kh',
      launcher: ['/opt/50%/kedge'],
    });
    expect(text).toContain("  ProxyCommand '/opt/50%%/kedge' ssh --proxy pi\n");
  });
});

describe('known_hosts', () => {
  test('replaces the lines of the written aliases and keeps the others', () => {
    const existing = `other.host ssh-ed25519 AAAA\npi.kedge ssh-ed25519 OLD\n\n`;
    expect(mergeKnownHosts(existing, [server('pi', [rsa, ed])], 'kedge')).toBe(
      `other.host ssh-ed25519 AAAA\npi.kedge ${ed}\npi.kedge ${rsa}\n`,
    );
    expect(mergeKnownHosts('', [], 'kedge')).toBe('');
  });

  const dir = mkdtempSync(join(tmpdir(), 'kedge-ssh-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('written atomically with mode 0600, replacing an existing file', () => {
    const file = join(dir, 'sub', 'known_hosts');
    writeFileAtomic(file, 'a\n');
    writeFileSync(file, 'old\n', { mode: 0o644 });
    writeFileAtomic(file, 'b\n');
    expect(readFileSync(file, 'utf8')).toBe('b\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('launcher', () => {
  test('bin/kedge names itself; otherwise this Node and script', () => {
    expect(launcher({ KEDGE_CLI_PATH: '/opt/kedge/bin/kedge' }, [], '/n')).toEqual(['/opt/kedge/bin/kedge']);
    expect(launcher({}, ['/usr/bin/node', '/opt/kedge/bin/kedge.js'], '/usr/bin/node')).toEqual([
      '/usr/bin/node',
      '/opt/kedge/bin/kedge.js',
    ]);
  });
});
