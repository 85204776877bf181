import { describe, expect, it } from '@jest/globals';
import type { Deployment } from './desired.ts';
import { placementStatus, statusChanged } from './placement-status.ts';

function dep(replicas: number, status: Deployment['status'], generation = 2): Deployment {
  return { metadata: { name: 'web', generation }, spec: { replicas }, status };
}

describe('placementStatus', () => {
  it('is Running when the rollout is complete and every replica is ready', () => {
    expect(
      placementStatus({
        generation: 5,
        deployment: dep(2, { observedGeneration: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
      }),
    ).toEqual({
      phase: 'Running',
      message: '2/2 replicas ready',
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 5,
    });
  });

  it('is Applied while replicas are missing or the controller has not seen the new generation', () => {
    expect(
      placementStatus({
        generation: 1,
        deployment: dep(2, { observedGeneration: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }),
      }),
    ).toEqual({
      phase: 'Applied',
      message: '1/2 replicas ready',
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 1,
    });
    expect(
      placementStatus({
        generation: 1,
        deployment: dep(1, { observedGeneration: 1, updatedReplicas: 1, readyReplicas: 1 }, 2),
      }).phase,
    ).toBe('Applied');
    expect(placementStatus({ generation: 1, deployment: dep(1, undefined) })).toEqual({
      phase: 'Applied',
      message: '0/1 replicas ready',
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 1,
    });
  });

  it('is Running with zero replicas once rolled out', () => {
    expect(placementStatus({ generation: 1, deployment: dep(0, { observedGeneration: 2 }) }).phase).toBe('Running');
  });

  it('is Failed with the apply error, or when the rollout is stuck', () => {
    expect(placementStatus({ generation: 4, error: 'namespace shop: forbidden' })).toEqual({
      phase: 'Failed',
      message: 'namespace shop: forbidden',
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 4,
    });
    expect(
      placementStatus({
        generation: 4,
        deployment: dep(1, {
          observedGeneration: 2,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "web-1" has timed out progressing.',
            },
          ],
        }),
      }),
    ).toMatchObject({ phase: 'Failed', message: 'rollout stuck: ReplicaSet "web-1" has timed out progressing.' });
  });

  it('mentions a replica failure while Applied', () => {
    expect(
      placementStatus({
        generation: 1,
        deployment: dep(1, {
          observedGeneration: 2,
          conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota exceeded' }],
        }),
      }).message,
    ).toBe('0/1 replicas ready; quota exceeded');
  });
});

describe('statusChanged', () => {
  it('compares only the fields the agent writes', () => {
    const s = {
      phase: 'Running' as const,
      readyReplicas: 1,
      availableReplicas: 1,
      message: '1/1 replicas ready',
      observedGeneration: 2,
    };
    expect(statusChanged(s, { ...s })).toBe(false);
    expect(statusChanged(undefined, s)).toBe(true);
    expect(statusChanged(s, { ...s, observedGeneration: 3 })).toBe(true);
    expect(statusChanged(s, { ...s, readyReplicas: 0 })).toBe(true);
    expect(
      statusChanged({ phase: 'Applied' }, { phase: 'Applied', readyReplicas: 0, availableReplicas: 0, message: '' }),
    ).toBe(false);
  });
});
