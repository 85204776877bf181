import { expect, test } from '@jest/globals';
import { auditEvent, auditFields, type SshSessionRecord } from './ssh-audit.ts';

const record = (over: Partial<SshSessionRecord> = {}): SshSessionRecord => ({
  user: 'kedge:static:alice',
  cluster: 'lc1',
  edge: 'pi',
  started: new Date('2026-01-01T10:00:00.000Z'),
  endedAt: new Date('2026-01-01T10:01:30.250Z'),
  bytesToEdge: 1200,
  bytesToClient: 34000,
  ended: 'sshd_closed',
  ...over,
});
const edge = { metadata: { name: 'pi', uid: 'u-1', resourceVersion: '7' } };

test('the audit line names who, where, when, how much and how it ended', () => {
  expect(auditFields(record())).toEqual({
    cluster: 'lc1',
    edge: 'pi',
    user: 'kedge:static:alice',
    start: '2026-01-01T10:00:00.000Z',
    end: '2026-01-01T10:01:30.250Z',
    durationMs: 90_250,
    bytesToEdge: 1200,
    bytesToClient: 34000,
    ended: 'sshd_closed',
  });
});

test('the Event is on the Edge (namespace default), Normal for an orderly end, Warning otherwise', () => {
  const e = auditEvent(record(), edge, 'hub-1') as unknown as Record<string, unknown> & {
    metadata: { namespace: string };
    involvedObject: Record<string, unknown>;
  };
  expect(e.metadata.namespace).toBe('default');
  expect(e.involvedObject).toMatchObject({
    kind: 'Edge',
    name: 'pi',
    uid: 'u-1',
    apiVersion: 'kedge.faros.sh/v1alpha1',
  });
  expect(e.involvedObject.namespace).toBeUndefined();
  expect(e).toMatchObject({ type: 'Normal', reason: 'SSHSession', reportingInstance: 'hub-1' });
  expect(e.message).toBe(
    'SSH session of kedge:static:alice from 2026-01-01T10:00:00.000Z for 1m30s: 1200 bytes to the edge, 34000 bytes to the client; ended: sshd closed the connection',
  );
  const lost = auditEvent(
    record({ ended: 'edge_disconnected', endedAt: new Date('2026-01-01T10:00:00.400Z') }),
    edge,
    'h',
  );
  expect(lost).toMatchObject({ type: 'Warning' });
  expect((lost as unknown as { message: string }).message).toContain('for 400ms: 1200 bytes to the edge');
  expect((lost as unknown as { message: string }).message).toContain("ended: the edge's agent disconnected");
});
