// Parsing of the raw (undecoded) paths under /services/agent-proxy/… and /services/edges-proxy/…, and the agent's
// allow-list: which (method, path) an edge credential may use. Pure; every other shape is refused, never "cleaned".
import { GROUP, VERSION } from '../../api/constants.ts';
import { EDGES_PROXY_PREFIX, edgesProxyURL as proxyURL } from '../../api/ssh.ts';
import { unsafePathReason } from '../server/paths.ts';

export const AGENT_PROXY_PREFIX = '/services/agent-proxy';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDNSLabel(s: string): boolean {
  return DNS_LABEL.test(s);
}

export function isDNSSubdomain(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

export type PathError = { ok: false; code: 400 | 403 | 404 | 405; reason: string };

/** `/…/clusters/<lc>/apis/kedge.faros.sh/v1alpha1/edges/<edge>` + `rest` (`''` or `/…`). */
export type EdgeAddress = { ok: true; cluster: string; edge: string; rest: string };

function parseEdgeAddress(rawPath: string, prefix: string): EdgeAddress | PathError {
  const bad = unsafePathReason(rawPath);
  if (bad) return { ok: false, code: 400, reason: bad };
  if (!rawPath.startsWith(`${prefix}/`)) return { ok: false, code: 404, reason: 'not found' };
  const m = /^\/clusters\/([^/]+)\/apis\/([^/]+)\/([^/]+)\/edges\/([^/]+)(\/.*)?$/.exec(rawPath.slice(prefix.length));
  if (!m)
    return {
      ok: false,
      code: 404,
      reason: `expected ${prefix}/clusters/<cluster>/apis/${GROUP}/${VERSION}/edges/<name>/…`,
    };
  const [, cluster = '', group, version, edge = '', rest = ''] = m;
  if (group !== GROUP || version !== VERSION) return { ok: false, code: 404, reason: 'not found' };
  if (!isDNSLabel(cluster)) return { ok: false, code: 400, reason: 'invalid logical cluster name' };
  if (!isDNSSubdomain(edge)) return { ok: false, code: 400, reason: 'invalid edge name' };
  return { ok: true, cluster, edge, rest };
}

/** What an edge credential asks for. `join` is the only operation authenticated by a join token instead. */
export type AgentOperation =
  | { op: 'join' }
  | { op: 'tunnel' }
  | { op: 'getEdge' }
  | { op: 'patchEdgeStatus' }
  | { op: 'placements' }
  | { op: 'putPlacementStatus'; namespace: string; name: string }
  | { op: 'getVirtualWorkload'; namespace: string; name: string };

export type AgentRequest = { ok: true; cluster: string; edge: string } & AgentOperation;

/**
 * Classifies an agent-proxy request. 400 malformed path, 404 outside the edge address space, 405 a known path with
 * the wrong method for `join`, 403 anything else under the edge (the allow-list is the contract, docs/agent-protocol.md §4).
 */
export function parseAgentRequest(method: string, rawPath: string): AgentRequest | PathError {
  const addr = parseEdgeAddress(rawPath, AGENT_PROXY_PREFIX);
  if (!addr.ok) return addr;
  const { cluster, edge, rest } = addr;
  const ok = (o: AgentOperation): AgentRequest => ({ ok: true, cluster, edge, ...o });
  const forbidden: PathError = { ok: false, code: 403, reason: 'an edge agent may not make this request' };
  if (rest === '/join') return method === 'POST' ? ok({ op: 'join' }) : { ok: false, code: 405, reason: 'use POST' };
  if (rest === '' || rest === '/') return method === 'GET' ? ok({ op: 'getEdge' }) : forbidden;
  if (rest === '/status') return method === 'PATCH' ? ok({ op: 'patchEdgeStatus' }) : forbidden;
  if (rest === '/proxy') return method === 'GET' ? ok({ op: 'tunnel' }) : forbidden;
  if (rest === '/placements') return method === 'GET' ? ok({ op: 'placements' }) : forbidden;
  const nsPath = /^\/namespaces\/([^/]+)\/(placements|virtualworkloads)\/([^/]+)(\/status)?$/.exec(rest);
  if (!nsPath) return forbidden;
  const [, namespace = '', resource, name = '', status] = nsPath;
  if (!isDNSLabel(namespace) || !isDNSSubdomain(name))
    return { ok: false, code: 400, reason: 'invalid namespace or name' };
  if (resource === 'placements' && status && method === 'PUT') return ok({ op: 'putPlacementStatus', namespace, name });
  if (resource === 'virtualworkloads' && !status && method === 'GET')
    return ok({ op: 'getVirtualWorkload', namespace, name });
  return forbidden;
}

export type EdgesProxyRequest = { ok: true; cluster: string; edge: string; sub: 'k8s' | 'ssh'; rest: string };

/** `…/edges/<edge>/k8s[/<kubernetes path>]` → rest `/<kubernetes path>` (`/` when empty); `…/edges/<edge>/ssh`. */
export function parseEdgesProxyRequest(rawPath: string): EdgesProxyRequest | PathError {
  const addr = parseEdgeAddress(rawPath, EDGES_PROXY_PREFIX);
  if (!addr.ok) return addr;
  const { cluster, edge, rest } = addr;
  if (rest === '/k8s' || rest.startsWith('/k8s/'))
    return { ok: true, cluster, edge, sub: 'k8s', rest: rest.slice(4) || '/' };
  if (rest === '/ssh') return { ok: true, cluster, edge, sub: 'ssh', rest: '' };
  return { ok: false, code: 404, reason: 'not found: use …/k8s/… or …/ssh' };
}

/** The edges-proxy URL an Edge's status.URL carries. */
export function edgesProxyURL(hubURL: string, cluster: string, edge: string, type: string | undefined): string {
  return proxyURL(hubURL, cluster, edge, type === 'server' ? 'ssh' : 'k8s');
}

/** Splits a request URL into the raw path and the raw query (without '?'). */
export function splitURL(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q >= 0 ? { path: url.slice(0, q), query: url.slice(q + 1) } : { path: url, query: '' };
}
