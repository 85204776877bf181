// Label selector matching and validation: Kubernetes semantics, table-driven.
import { describe, it, expect } from '@jest/globals';
import type { LabelSelector } from '../../api/types.ts';
import { matchesSelector, validateSelector } from './label-selector.ts';

const edgeLabels = { env: 'prod', region: 'eu', 'kedge.faros.sh/arch': 'arm64' };

describe('matchesSelector', () => {
  const cases: Array<{
    name: string;
    selector: LabelSelector | undefined;
    labels?: Record<string, string>;
    want: boolean;
  }> = [
    { name: 'absent selector matches all edges', selector: undefined, want: true },
    { name: 'absent selector matches an edge without labels', selector: undefined, labels: {}, want: true },
    { name: 'empty selector matches all', selector: {}, want: true },
    { name: 'empty lists match all', selector: { matchLabels: {}, matchExpressions: [] }, want: true },
    { name: 'matchLabels equal', selector: { matchLabels: { env: 'prod' } }, want: true },
    {
      name: 'matchLabels with a prefixed key',
      selector: { matchLabels: { 'kedge.faros.sh/arch': 'arm64' } },
      want: true,
    },
    { name: 'matchLabels differing value', selector: { matchLabels: { env: 'dev' } }, want: false },
    { name: 'matchLabels missing key', selector: { matchLabels: { tier: 'x' } }, want: false },
    { name: 'matchLabels empty value needs the key present', selector: { matchLabels: { tier: '' } }, want: false },
    { name: 'matchLabels are ANDed', selector: { matchLabels: { env: 'prod', region: 'us' } }, want: false },
    {
      name: 'In with the value',
      selector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['us', 'eu'] }] },
      want: true,
    },
    {
      name: 'In without the value',
      selector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['us'] }] },
      want: false,
    },
    {
      name: 'In with the key absent',
      selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      want: false,
    },
    {
      name: 'NotIn with another value',
      selector: { matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['us'] }] },
      want: true,
    },
    {
      name: 'NotIn with the value',
      selector: { matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] },
      want: false,
    },
    {
      name: 'NotIn matches when the key is absent',
      selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      want: true,
    },
    { name: 'Exists with the key', selector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, want: true },
    {
      name: 'Exists without the key',
      selector: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
      want: false,
    },
    {
      name: 'DoesNotExist without the key',
      selector: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] },
      want: true,
    },
    {
      name: 'DoesNotExist with the key',
      selector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] },
      want: false,
    },
    {
      name: 'labels and expressions are ANDed',
      selector: { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'region', operator: 'In', values: ['us'] }] },
      want: false,
    },
    {
      name: 'unknown operator matches nothing instead of throwing',
      selector: { matchExpressions: [{ key: 'env', operator: 'Gt' as 'In', values: ['1'] }] },
      want: false,
    },
    {
      name: 'inherited object keys are not labels',
      selector: { matchExpressions: [{ key: 'toString', operator: 'Exists' }] },
      want: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(matchesSelector(c.labels ?? edgeLabels, c.selector)).toBe(c.want);
    });
  }

  it('undefined labels behave as no labels', () => {
    expect([
      matchesSelector(undefined, {}),
      matchesSelector(undefined, { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }),
      matchesSelector(undefined, { matchLabels: { a: 'b' } }),
    ]).toEqual([true, true, false]);
  });
});

describe('validateSelector', () => {
  const cases: Array<{ name: string; selector: unknown; want: string[] }> = [
    { name: 'absent selector is valid', selector: undefined, want: [] },
    { name: 'empty selector is valid', selector: {}, want: [] },
    {
      name: 'valid labels and every operator are accepted',
      selector: {
        matchLabels: { 'example.com/tier': 'web', env: '' },
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', 'y_z.1'] },
          { key: 'b', operator: 'NotIn', values: ['x'] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist', values: [] },
        ],
      },
      want: [],
    },
    {
      name: 'unknown operator',
      selector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] },
      want: ['matchExpressions[0].operator: unsupported operator "Gt" (want In, NotIn, Exists, DoesNotExist)'],
    },
    {
      name: 'In with empty values',
      selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] },
      want: ['matchExpressions[0].values: must be non-empty for operator In'],
    },
    {
      name: 'NotIn with absent values',
      selector: { matchExpressions: [{ key: 'a', operator: 'NotIn' }] },
      want: ['matchExpressions[0].values: must be non-empty for operator NotIn'],
    },
    {
      name: 'Exists with values',
      selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      want: ['matchExpressions[0].values: must be empty for operator Exists'],
    },
    {
      name: 'DoesNotExist with values',
      selector: {
        matchExpressions: [
          { key: 'b', operator: 'Exists' },
          { key: 'a', operator: 'DoesNotExist', values: ['x'] },
        ],
      },
      want: ['matchExpressions[1].values: must be empty for operator DoesNotExist'],
    },
    {
      name: 'invalid label key and value in matchLabels',
      selector: { matchLabels: { 'bad key': 'ok', good: '-bad' } },
      want: [
        `matchLabels: invalid label key "bad key": name part must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character`,
        `matchLabels[good]: invalid label value "-bad": must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character`,
      ],
    },
    {
      name: 'invalid key prefix and too many slashes',
      selector: {
        matchExpressions: [
          { key: 'Example.com/x', operator: 'Exists' },
          { key: 'a/b/c', operator: 'Exists' },
          { key: '/x', operator: 'Exists' },
        ],
      },
      want: [
        'matchExpressions[0].key: invalid label key "Example.com/x": prefix part must be a DNS-1123 subdomain of at most 253 characters',
        `matchExpressions[1].key: invalid label key "a/b/c": at most one '/' is allowed`,
        'matchExpressions[2].key: invalid label key "/x": prefix part must be non-empty',
      ],
    },
    {
      name: 'name part longer than 63 characters',
      selector: { matchLabels: { ['a'.repeat(64)]: 'x' } },
      want: [
        `matchLabels: invalid label key "${'a'.repeat(64)}": name part must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character`,
      ],
    },
    {
      name: 'invalid expression value and non-string value',
      selector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'no way', 3] }] },
      want: [
        `matchExpressions[0].values[1]: invalid label value "no way": must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character`,
        'matchExpressions[0].values[2]: must be a string',
      ],
    },
    {
      name: 'malformed shapes are reported, not thrown',
      selector: { matchLabels: ['x'], matchExpressions: [null, { key: 'a', operator: 'In', values: 'x' }] },
      want: [
        'matchLabels: must be an object',
        'matchExpressions[0]: must be an object',
        'matchExpressions[1].values: must be a list',
        'matchExpressions[1].values: must be non-empty for operator In',
      ],
    },
    { name: 'a non-object selector', selector: 'env=prod', want: ['selector: must be an object'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(validateSelector(c.selector as LabelSelector)).toEqual(c.want);
    });
  }
});
