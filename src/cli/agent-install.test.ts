import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installAgent } from './agent-install.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-agent-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'join-secret\n');
const caFile = join(dir, 'ca.crt');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
const flags = { hubUrl: 'https://hub.example:8443/', cluster: 'abc123', edge: 'pi', tokenFile, hubCaFile: caFile };

describe('installAgent', () => {
  it('writes the unit, the token (0600) and the CA below --root, and says how to start it', () => {
    const root = join(dir, 'ok');
    const res = installAgent({ ...flags, root });
    expect(res.unitName).toBe('kedge-agent-pi.service');
    const unit = readFileSync(join(root, 'etc/systemd/system/kedge-agent-pi.service'), 'utf8');
    expect(unit).toContain('--hub-url https://hub.example:8443 --cluster abc123 --edge pi');
    expect(unit).not.toContain('join-secret');
    expect(readFileSync(join(root, 'etc/kedge-agent/pi/join-token'), 'utf8')).toBe('join-secret\n');
    expect(statSync(join(root, 'etc/kedge-agent/pi/join-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'etc/kedge-agent/pi')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(root, 'etc/kedge-agent/pi/hub-ca.crt'), 'utf8')).toContain('CERTIFICATE');
    expect(res.lines.join('\n')).toContain('systemctl daemon-reload && systemctl enable --now kedge-agent-pi.service');
  });

  it('reports every bad flag at once and writes nothing', () => {
    const root = join(dir, 'bad');
    expect(() =>
      installAgent({ type: 'kubernetes', hubUrl: 'http://hub', cluster: '', edge: 'Pi', token: 'a', tokenFile, root }),
    ).toThrow(
      /--type kubernetes is installed into the cluster.*--hub-url must be an https.*--cluster is required.*--edge is required.*--token and --token-file exclude each other/,
    );
    expect(() => installAgent({ ...flags, tokenFile: join(dir, 'missing'), root })).toThrow(/ENOENT/);
    expect(existsSync(root)).toBe(false);
  });

  it('a file that cannot be written is a WriteFailed error naming it', () => {
    const root = join(dir, 'a-file');
    writeFileSync(root, '');
    expect(() => installAgent({ ...flags, root })).toThrow(expect.objectContaining({ code: 'KEDGE_CLI_WRITE_FAILED' }));
    expect(readdirSync(dir)).not.toContain('etc');
  });
});
