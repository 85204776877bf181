import { describe, expect, it } from '@jest/globals';
import { VERSION } from '../../version.ts';
import { goArch, serverFacts } from './facts.ts';

describe('server facts', () => {
  it('spells the architecture as Go does (what the Go Kedge reported)', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('arm')).toBe('arm');
    expect(goArch('ia32')).toBe('386');
    expect(goArch('riscv64')).toBe('riscv64');
  });

  it('reports the host, and the host keys only once a scan succeeded', () => {
    const host = { hostname: 'pi', platform: 'linux', release: '6.1.0-rpi', arch: 'arm64' };
    expect(serverFacts(host, undefined)).toEqual({
      hostname: 'pi',
      agentVersion: VERSION,
      os: 'linux',
      kernelVersion: '6.1.0-rpi',
      architecture: 'arm64',
    });
    const keys = ['ssh-ed25519 AAAA'];
    const facts = serverFacts({ ...host, arch: 'x64' }, keys);
    expect(facts).toMatchObject({ architecture: 'amd64', observedSSHHostKeys: keys });
    expect(facts.observedSSHHostKeys).not.toBe(keys); // a copy: a later scan cannot change a report in flight
    expect(serverFacts(host, [])).toHaveProperty('observedSSHHostKeys', []);
  });
});
