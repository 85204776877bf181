// Headers that belong to one HTTP hop (RFC 9110 §7.6.1) and must not be forwarded by a proxy: the hub's kcp proxy,
// its edge relay and the agent's local API server proxy all filter with this one set (and the hub also drops the
// HTTP/2 pseudo-headers, `isHopHeader`).
import type { IncomingHttpHeaders } from 'node:http';

export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * True for a header name a proxy must not forward: hop-by-hop, or an HTTP/2 pseudo-header (`:method`, `:path`,
 * `:authority`, `:scheme`, `:status`), which Node's HTTP/2 compatibility API lists among a message's headers and
 * which are no valid header names on HTTP/1.1.
 */
export function isHopHeader(name: string): boolean {
  return HOP_BY_HOP_HEADERS.has(name) || name.startsWith(':');
}

/** The header names a message's `Connection` header lists (lower-case): hop-by-hop for that message too. */
export function connectionListed(connection: string | string[] | undefined): Set<string> {
  const listed = new Set<string>();
  for (const v of [connection ?? []].flat())
    for (const t of v.split(',')) if (t.trim() !== '') listed.add(t.trim().toLowerCase());
  return listed;
}

/**
 * `headers` without hop-by-hop ones (the fixed set, pseudo-headers and those `Connection` lists): Node frames the
 * body itself, and an HTTP/2 response refuses connection-specific headers.
 */
export function endToEndHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !isHopHeader(k) && !listed.has(k)) out[k] = v;
  return out;
}
