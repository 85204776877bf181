import { expect, test } from '@jest/globals';
import type { Edge } from '../../api/types.ts';
import { nextEdgeStatus } from './edge-lifecycle.ts';
import { hostKeyCondition } from './host-key-condition.ts';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPGhIXosAJ4ZS7B0jAWvnnvN5msyPHRjxgVUfhMwCBH';
const EC =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEfVsh8cgkUfRGtC/ADtfp9/XiJuDAwlpIEeZuYs0KIZdIetlUJlPmB9s5xZ3jZ8XKD61mxMiS/Bl5EFMnu1DZU=';
const server = (status: Edge['status']): Edge => ({ metadata: { name: 'pi' }, spec: { type: 'server' }, status });

test('kubernetes edges have no HostKeyTrusted condition', () => {
  expect(hostKeyCondition({ metadata: { name: 'k' }, spec: { type: 'kubernetes' } })).toBeUndefined();
});

test('nothing pinned → Unknown; observed = pinned → True; a difference → False naming both sides and the fix', () => {
  expect(hostKeyCondition(server({}))).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
  expect(hostKeyCondition(server({ sshHostKeys: [ED], observedSSHHostKeys: [ED] }))).toMatchObject({
    status: 'True',
    reason: 'Pinned',
  });
  expect(hostKeyCondition(server({ sshHostKey: ED }))).toMatchObject({ status: 'True' });
  const changed = hostKeyCondition(server({ sshHostKeys: [ED], observedSSHHostKeys: [EC] }));
  expect(changed).toMatchObject({ status: 'False', reason: 'HostKeyChanged' });
  expect(changed?.message).toContain('SHA256:F5rXZAClYktc0VBIQtUhg32I3pbkUaUIrhbSGLcBbh4 (ECDSA) (not pinned)');
  expect(changed?.message).toContain('no longer presents SHA256:7yj6IIAkMZ2y+QJMBu7Z3Wd/9hDl90f0CR3p6aak+fo (ED25519)');
  expect(changed?.message).toContain('kedge edge trust-host-key pi');
});

test('the lifecycle writes HostKeyTrusted next to Ready whatever the phase', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const edge = server({ sshHostKeys: [ED], observedSSHHostKeys: [EC] });
  for (const signal of [{ type: 'Opened' }, { type: 'Closed', registered: true }, { type: 'None' }] as const) {
    const types = nextEdgeStatus(edge, signal, now, { heartbeatIntervalMs: 30_000 }).status.conditions?.map(
      (c) => `${c.type}=${c.status}`,
    );
    expect(types).toContain('HostKeyTrusted=False');
  }
});
