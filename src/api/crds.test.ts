// Checks the committed CRDs: they match their sources in crds/src (outside the inlined upstream types), are
// structural, stay small enough for etcd, and name every field the TypeScript types in types.ts name (both ways).
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Schema } from './crd-gen/structural-schema.ts';
import type { Edge, Placement, VirtualWorkload } from './types.ts';

const read = (path: string): string =>
  readFileSync(fileURLToPath(new URL(`../../crds/${path}`, import.meta.url)), 'utf8');
const schemaOf = (crd: unknown): Schema =>
  (crd as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }).spec.versions[0]!.schema.openAPIV3Schema;

const FILES = {
  edges: 'kedge.faros.sh_edges.yaml',
  virtualworkloads: 'kedge.faros.sh_virtualworkloads.yaml',
  placements: 'kedge.faros.sh_placements.yaml',
} as const;

/** Replaces, in `generated`, every subtree that is a `$ref` in `source` by the source node. */
function withRefsRestored(source: unknown, generated: unknown): unknown {
  if (Array.isArray(source) && Array.isArray(generated)) return source.map((s, i) => withRefsRestored(s, generated[i]));
  if (source === null || typeof source !== 'object' || generated === null || typeof generated !== 'object') {
    return generated;
  }
  if ('$ref' in source) return source;
  const out: Record<string, unknown> = { ...(generated as Record<string, unknown>) };
  for (const [key, value] of Object.entries(source)) out[key] = withRefsRestored(value, out[key]);
  return out;
}

function walk(schema: Schema, path: string, visit: (node: Schema, path: string) => void): void {
  visit(schema, path);
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    walk(child, `${path}.${name}`, visit);
  }
  if (schema.items !== undefined) walk(schema.items as Schema, `${path}[]`, visit);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties as Schema, `${path}.*`, visit);
}

/** Every property path of a sample object; arrays contribute `[]`, string-keyed maps contribute `.*`. */
function samplePaths(value: unknown, path: string, mapPaths: ReadonlySet<string>, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    out.add(`${path}[]`);
    for (const item of value) samplePaths(item, `${path}[]`, mapPaths, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const childPath = mapPaths.has(path) ? `${path}.*` : `${path}.${key}`;
      out.add(childPath);
      samplePaths(child, childPath, mapPaths, out);
    }
  }
  return out;
}

type Full<T> = T extends readonly (infer U)[] ? Full<U>[] : T extends object ? { [K in keyof T]-?: Full<T[K]> } : T;
/** A sample must set every field its type declares, so tsc fails when a type gains a field the sample lacks. */
type Sample<T> = Omit<Full<T>, 'metadata' | 'apiVersion' | 'kind'>;

const condition = {
  type: 'Ready',
  status: 'True',
  observedGeneration: 1,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  reason: 'R',
  message: 'm',
} as const;
const port = { name: 'http', containerPort: 80, protocol: 'TCP', hostPort: 8080, hostIP: '0.0.0.0' } as const;
const env = { name: 'A', value: 'b', valueFrom: {} };
const resources = { limits: { cpu: '1' }, requests: { memory: '1Mi' }, claims: [{ name: 'c', request: 'r' }] };
const container = { name: 'app', image: 'nginx', command: ['a'], args: ['b'], ports: [port], env: [env], resources };

const edgeSample: Sample<Edge> = {
  spec: { type: 'server', server: { sshPort: 22 }, unschedulable: true },
  status: {
    phase: 'Ready',
    connected: true,
    lastHeartbeatTime: 't',
    URL: 'u',
    agentVersion: 'v',
    hostname: 'h',
    kubernetesVersion: 'k',
    os: 'o',
    kernelVersion: 'kv',
    architecture: 'a',
    sshHostKey: 's',
    sshHostKeys: ['s'],
    observedSSHHostKeys: ['s'],
    conditions: [condition],
  },
};
const vwSample: Sample<VirtualWorkload> = {
  spec: {
    simple: { image: 'nginx', ports: [port], env: [env], resources, command: ['a'], args: ['b'] },
    template: {
      metadata: { labels: { a: 'b' }, annotations: { c: 'd' } },
      spec: { containers: [container], initContainers: [container] },
    },
    replicas: 1,
    placement: {
      edgeSelector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] },
      strategy: 'Spread',
    },
  },
  status: {
    phase: 'Running',
    readyReplicas: 1,
    availableReplicas: 1,
    edgeCount: 1,
    edges: [{ edgeName: 'e', phase: 'Running', readyReplicas: 1, message: 'm' }],
    conditions: [condition],
    observedGeneration: 1,
  },
};
const placementSample: Sample<Placement> = {
  spec: { workloadRef: { name: 'w', uid: 'u' }, edgeName: 'e', replicas: 1 },
  status: { phase: 'Running', readyReplicas: 1, availableReplicas: 1, message: 'm', observedGeneration: 1 },
};

describe('crds/', () => {
  for (const [plural, file] of Object.entries(FILES)) {
    describe(plural, () => {
      const text = read(file);
      const generated = parse(text) as unknown;
      const source = parse(read(`src/${file}`)) as unknown;

      it('matches crds/src outside the inlined upstream types (run `node hack/gen-crds.ts` when this fails)', () => {
        expect(text.startsWith(`# Generated by hack/gen-crds.ts from crds/src/${file}`)).toBe(true);
        expect(withRefsRestored(source, generated)).toEqual(source);
      });

      it('is structural: every node typed, no refs or combinators, list-map keys required or defaulted', () => {
        const problems: string[] = [];
        walk(schemaOf(generated), '', (node, path) => {
          for (const key of ['$ref', 'allOf', 'anyOf', 'oneOf']) if (key in node) problems.push(`${path}: ${key}`);
          const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
          if (!typed) problems.push(`${path}: no type`);
          for (const key of (node['x-kubernetes-list-map-keys'] ?? []) as string[]) {
            const items = node.items as Schema;
            const prop = (items.properties as Record<string, Schema>)[key];
            if (!((items.required ?? []) as string[]).includes(key) && prop?.default === undefined) {
              problems.push(`${path}: map key ${key}`);
            }
          }
        });
        expect(problems).toEqual([]);
      });

      it('stays well below the etcd object limit', () => {
        expect(JSON.stringify(generated).length).toBeLessThan(512 * 1024);
      });
    });
  }

  const maps = new Set([
    '.spec.template.metadata.labels',
    '.spec.template.metadata.annotations',
    '.spec.placement.edgeSelector.matchLabels',
    '.spec.simple.resources.limits',
    '.spec.simple.resources.requests',
    '.spec.template.spec.containers[].resources.limits',
    '.spec.template.spec.containers[].resources.requests',
    '.spec.template.spec.initContainers[].resources.limits',
    '.spec.template.spec.initContainers[].resources.requests',
  ]);
  const cases = [
    ['edges', edgeSample],
    ['virtualworkloads', vwSample],
    ['placements', placementSample],
  ] as const;
  for (const [plural, sample] of cases) {
    it(`${plural}: every field of the TypeScript type exists in the schema, and every Kedge field has a type`, () => {
      const schemaPaths = new Set<string>();
      walk(schemaOf(parse(read(FILES[plural]))), '', (_node, path) => schemaPaths.add(path));
      const typePaths = samplePaths(sample, '', maps, new Set());
      expect([...typePaths].filter((p) => !schemaPaths.has(p))).toEqual([]);
      // Kedge-owned fields: everything outside the upstream subtrees must be in the type too.
      const upstream =
        /^\.spec\.(template|simple\.(ports|env|resources))[.[]|^\.status\.conditions\[\]|^\.(apiVersion|kind|metadata)$/;
      const kedgeOnly = [...schemaPaths].filter((p) => p !== '' && !upstream.test(p) && !typePaths.has(p));
      expect(kedgeOnly).toEqual([]);
    });
  }
});
