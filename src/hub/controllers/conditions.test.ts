// Condition merging: transition times move only on status change; other writers' conditions survive.
import { describe, it, expect } from '@jest/globals';
import type { Condition } from '../../api/types.ts';
import { mergeConditions, parseTime, rfc3339 } from './conditions.ts';

const now = new Date('2026-09-01T12:00:00.750Z');
const earlier = '2026-09-01T10:00:00Z';

describe('rfc3339', () => {
  it('drops sub-second precision like metav1.Time', () => {
    expect(rfc3339(now)).toBe('2026-09-01T12:00:00Z');
  });
});

describe('parseTime', () => {
  it('parses RFC 3339 and rejects garbage and absence', () => {
    expect([parseTime(earlier), parseTime('yesterday'), parseTime(undefined)]).toEqual([
      Date.parse(earlier),
      undefined,
      undefined,
    ]);
  });
});

describe('mergeConditions', () => {
  const previous: Condition[] = [
    { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: 'old', lastTransitionTime: earlier },
    { type: 'Available', status: 'False', reason: 'Progressing', message: '', lastTransitionTime: earlier },
    { type: 'Foreign', status: 'True', reason: 'X', message: '', lastTransitionTime: earlier },
  ];
  it('keeps the transition time when status is unchanged and moves it when status changes', () => {
    expect(
      mergeConditions(
        previous,
        [
          { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: 'new message' },
          { type: 'Available', status: 'True', reason: 'AllPlacementsRunning', message: '' },
        ],
        now,
        4,
      ),
    ).toEqual([
      {
        type: 'Scheduled',
        status: 'True',
        reason: 'Scheduled',
        message: 'new message',
        lastTransitionTime: earlier,
        observedGeneration: 4,
      },
      {
        type: 'Available',
        status: 'True',
        reason: 'AllPlacementsRunning',
        message: '',
        lastTransitionTime: '2026-09-01T12:00:00Z',
        observedGeneration: 4,
      },
      { type: 'Foreign', status: 'True', reason: 'X', message: '', lastTransitionTime: earlier },
    ]);
  });

  it('sets now for a new condition and omits observedGeneration when not given', () => {
    expect(
      mergeConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'NeverConnected', message: 'm' }], now),
    ).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'NeverConnected',
        message: 'm',
        lastTransitionTime: '2026-09-01T12:00:00Z',
      },
    ]);
  });
});
