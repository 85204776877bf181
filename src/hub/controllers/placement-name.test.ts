// Placement naming: readable when valid, hashed (stable, label-safe, collision-resistant) otherwise.
import { describe, it, expect } from '@jest/globals';
import { hashedPlacementName, placementName, readablePlacementName } from './placement-name.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('placementName', () => {
  const long = 'w'.repeat(40);
  const cases: Array<{ name: string; vw: string; edge: string; inUse?: string[]; want: string }> = [
    { name: 'short valid names stay readable', vw: 'web', edge: 'pi-1', want: 'web-pi-1' },
    {
      name: 'exactly 63 characters stays readable',
      vw: 'a'.repeat(31),
      edge: 'b'.repeat(31),
      want: `${'a'.repeat(31)}-${'b'.repeat(31)}`,
    },
    {
      name: 'long names are hashed',
      vw: long,
      edge: 'edge-with-a-long-name-01',
      want: hashedPlacementName(long, 'edge-with-a-long-name-01'),
    },
    {
      name: 'names with dots are hashed (not label-safe)',
      vw: 'web.v2',
      edge: 'pi',
      want: hashedPlacementName('web.v2', 'pi'),
    },
    {
      name: 'a readable name in use by another pair is hashed',
      vw: 'a',
      edge: 'b-c',
      inUse: ['a-b-c'],
      want: hashedPlacementName('a', 'b-c'),
    },
    { name: 'unrelated names in use do not matter', vw: 'a', edge: 'b-c', inUse: ['a-b'], want: 'a-b-c' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(placementName(c.vw, c.edge, c.inUse ? new Set(c.inUse) : undefined)).toBe(c.want);
    });
  }

  it('readable form is undefined when invalid or too long', () => {
    expect([
      readablePlacementName('a', 'b'),
      readablePlacementName('a.b', 'c'),
      readablePlacementName('a'.repeat(60), 'bcde'),
    ]).toEqual(['a-b', undefined, undefined]);
  });
});

describe('hashedPlacementName', () => {
  it('has a fixed, deterministic value', () => {
    // Pinned so an accidental change of the scheme (which would orphan every hashed Placement) fails here.
    expect(hashedPlacementName('web', 'pi')).toBe('web-pi-107a47edee');
  });

  it('is label-safe for long, dotted and upper-case input', () => {
    const names = [
      hashedPlacementName('x'.repeat(253), 'y'.repeat(253)),
      hashedPlacementName('web.v2.example', 'edge.one'),
      hashedPlacementName('-.-', '.'),
    ];
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(DNS1123_LABEL);
    }
    expect(names[0]).toMatch(/^x{52}-[0-9a-f]{10}$/);
    expect(names[2]).toMatch(/^p-[0-9a-f]{10}$/);
  });

  it('separates pairs whose readable names are equal', () => {
    expect(hashedPlacementName('a-b', 'c')).not.toBe(hashedPlacementName('a', 'b-c'));
  });

  it('has no collisions over many pairs', () => {
    const seen = new Set<string>();
    for (let w = 0; w < 100; w++)
      for (let e = 0; e < 100; e++) seen.add(hashedPlacementName(`workload-${w}`, `edge-${e}`));
    expect(seen.size).toBe(10_000);
  });
});
