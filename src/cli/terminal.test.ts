import { describe, expect, test } from '@jest/globals';
import { typed } from './terminal.ts';

describe('typing on the terminal', () => {
  test.each([
    ['', 'abc\r', { value: 'abc', done: true, aborted: false, echo: 'abc' }],
    ['', 'ab', { value: 'ab', done: false, aborted: false, echo: 'ab' }],
    ['ab', 'c\n', { value: 'abc', done: true, aborted: false, echo: 'c' }],
    ['abc', '\u007f\r', { value: 'ab', done: true, aborted: false, echo: '\b \b' }],
    ['', '\u007f', { value: '', done: false, aborted: false, echo: '' }],
    ['ab', '\u0015x\r', { value: 'x', done: true, aborted: false, echo: '\b \b\b \bx' }],
    ['ab', '\u0003', { value: 'ab', done: false, aborted: true, echo: '' }],
    ['', '\u0004', { value: '', done: false, aborted: true, echo: '' }],
    ['a', '\u0004\r', { value: 'a', done: true, aborted: false, echo: '' }],
    ['', 'pä😀\r', { value: 'pä😀', done: true, aborted: false, echo: 'pä😀' }],
    ['pä😀', '\b\r', { value: 'pä', done: true, aborted: false, echo: '\b \b' }],
  ])('%j + %j', (before, chunk, want) => {
    expect(typed(before, chunk)).toEqual(want);
  });
});
