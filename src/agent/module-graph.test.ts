// Each agent mode loads only its own code: a server-mode agent (a Raspberry Pi) never loads the Kubernetes client,
// the reconciler or the k8s proxy, and a kubernetes-mode agent never loads ssh2. Neither loads client-node's KubeConfig
// (its index loads the whole generated API, ~85 MB RSS): only its entry parser, config_types.js; the index is
// imported dynamically for exec/auth-provider users only (src/kube/kubeconfig-options.ts). Checked on the static
// import graph (dynamic `import()` is how agent.ts picks a mode and how the host-key scan loads ssh2).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(AGENT, '..');
const STATIC_IMPORT = /^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

/**
 * Every file (relative to src/) and package reachable from `entry` through static, non-type imports: a package's
 * main entry as `pkg:<name>`; a file inside one as `pkg:<name>/<path>` and `pkg:<name>/*`; a builtin as `node:<name>`.
 */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    const key = relative(SRC, file);
    if (seen.has(key)) return;
    seen.add(key);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (spec.startsWith('node:')) seen.add(spec);
      else {
        const name = spec
          .split('/')
          .slice(0, spec.startsWith('@') ? 2 : 1)
          .join('/');
        if (name === spec) seen.add(`pkg:${name}`);
        else seen.add(`pkg:${spec}`).add(`pkg:${name}/*`);
      }
    }
  };
  visit(resolve(AGENT, entry));
  return seen;
}

const KUBERNETES_ONLY = [
  'agent/kubernetes-agent.ts',
  'agent/local-cluster.ts',
  'agent/tunnel/k8s-proxy.ts',
  'agent/workload/reconciler.ts',
  'kube/kubeconfig.ts',
  'pkg:@kubernetes/client-node',
  'pkg:@kubernetes/client-node/*',
];

describe('agent module graph', () => {
  it('finds the imports it checks', () => {
    const g = staticGraph('kubernetes-agent.ts');
    expect(g).toContain('agent/wiring.ts');
    expect(g).toContain('kube/kubeconfig.ts');
    expect(g).toContain('pkg:ws');
  });

  it('the entry points load no mode', () => {
    const g = staticGraph('main.ts');
    for (const f of [...KUBERNETES_ONLY, 'agent/server/server-agent.ts', 'pkg:ssh2']) expect(g).not.toContain(f);
  });

  it('server mode loads nothing of kubernetes mode, and ssh2 only when it scans', () => {
    const g = staticGraph('server/server-agent.ts');
    expect(g).toContain('agent/server/ssh-relay.ts');
    expect(g).toContain('node:net');
    // An ES import of node:http evaluates its WebSocket getters, which load Node's bundled undici (src/kube/status.ts).
    for (const f of [...KUBERNETES_ONLY, 'pkg:ssh2', 'node:http']) expect(g).not.toContain(f);
  });

  it("kubernetes mode loads client-node's kubeconfig entry parser, never its index", () => {
    const g = staticGraph('kubernetes-agent.ts');
    expect([...g].filter((f) => f.startsWith('pkg:@kubernetes/client-node'))).toEqual([
      'pkg:@kubernetes/client-node/dist/config_types.js',
      'pkg:@kubernetes/client-node/*',
    ]);
  });

  it('kubernetes mode loads nothing of server mode, and no ES import of node:http', () => {
    const g = staticGraph('kubernetes-agent.ts');
    expect([...g].filter((f) => f.startsWith('agent/server/') || f === 'pkg:ssh2' || f === 'node:http')).toEqual([]);
  });
});
