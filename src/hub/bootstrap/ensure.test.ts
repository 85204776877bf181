import { describe, expect, it } from '@jest/globals';
import { isSubset } from './ensure.ts';

describe('isSubset', () => {
  it.each([
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: { b: [1, 2] } }, { a: { b: [1, 2], c: 3 } }, true],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, false],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, true],
    [{ a: 1 }, { a: '1' }, false],
    [{ a: {} }, { a: null }, false],
    [{ a: 1 }, {}, false],
  ])('%j ⊆ %j → %s', (d, a, want) => {
    expect(isSubset(d, a)).toBe(want);
  });
});
