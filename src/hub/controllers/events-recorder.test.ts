import { describe, expect, it } from '@jest/globals';
import { eventManifest } from './events-recorder.ts';
import { microTime } from '../../kube/leader-election.ts';

describe('eventManifest', () => {
  it('builds a core/v1 Event about the object in its namespace', () => {
    const vw = {
      apiVersion: 'kedge.faros.sh/v1alpha1',
      kind: 'VirtualWorkload',
      metadata: {
        name: 'web',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '42',
        annotations: { 'kcp.io/cluster': 'abc' },
      },
    };
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const e = eventManifest(vw, { type: 'Warning', reason: 'FailedOver', message: 'moved from a to b' }, now, 'hub-1');
    expect(e).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'shop' },
      involvedObject: {
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'VirtualWorkload',
        name: 'web',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '42',
      },
      type: 'Warning',
      reason: 'FailedOver',
      message: 'moved from a to b',
      source: { component: 'kedge-hub' },
      reportingComponent: 'kedge-hub',
      reportingInstance: 'hub-1',
      firstTimestamp: '2026-01-02T03:04:05.678Z',
      lastTimestamp: '2026-01-02T03:04:05.678Z',
      count: 1,
    });
    expect(e.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    const other = eventManifest(vw, { type: 'Warning', reason: 'FailedOver', message: 'x' }, now, 'hub-1');
    expect(other.metadata.name).not.toBe(e.metadata.name);
  });
});

describe('microTime', () => {
  it('has the six fractional digits Go parses MicroTime with', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02T03:04:05.006000Z');
  });
});
