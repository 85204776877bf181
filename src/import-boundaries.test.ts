// The layering of src/ (README "Code layout"): agent and CLI share with the hub only what lives in api/, kube/,
// tunnel/ or util/, and those shared folders import no component. The CLI may run the agent (`kedge agent join`).
// Tests that need hub and agent together live in e2e/. Fails when a forbidden import comes back.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Top-level folder of src/ → the top-level folders it must never import from. */
const FORBIDDEN: Record<string, string[]> = {
  agent: ['hub', 'cli'],
  cli: ['hub'],
  hub: ['agent', 'cli'],
  api: ['hub', 'agent', 'cli', 'kube', 'tunnel', 'util'],
  kube: ['hub', 'agent', 'cli', 'tunnel'],
  tunnel: ['hub', 'agent', 'cli'],
  util: ['hub', 'agent', 'cli', 'kube', 'tunnel', 'api'],
};

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `[importing file, imported file]` pairs, both relative to src/, for every relative import. */
export function relativeImports(files: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      out.push([relative(SRC, file), relative(SRC, resolve(dirname(file), m[1] ?? ''))]);
    }
  }
  return out;
}

export function violations(imports: [string, string][]): string[] {
  return imports.flatMap(([from, to]) => {
    const fromTop = from.split('/')[0] ?? '';
    const toTop = to.split('/')[0] ?? '';
    return FORBIDDEN[fromTop]?.includes(toTop) ? [`src/${from} imports src/${to}`] : [];
  });
}

describe('import boundaries', () => {
  const imports = relativeImports(sourceFiles(SRC));

  it('finds the imports it checks', () => {
    expect(imports.some(([from, to]) => from.startsWith('agent/') && to.startsWith('api/'))).toBe(true);
  });

  it('reports a forbidden import', () => {
    expect(
      violations([
        ['agent/x.ts', 'hub/y.ts'],
        ['hub/a.ts', 'api/b.ts'],
        ['cli/c.ts', 'hub/d.ts'],
      ]),
    ).toEqual(['src/agent/x.ts imports src/hub/y.ts', 'src/cli/c.ts imports src/hub/d.ts']);
  });

  it('holds for the whole tree', () => {
    expect(violations(imports)).toEqual([]);
  });
});
