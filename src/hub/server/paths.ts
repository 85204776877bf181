// Parsing and normalisation of the paths users send to /clusters/<workspace>/…, before any access check.
// Everything that could let a path mean something else after decoding (dot segments, encoded separators,
// backslashes, empty segments) is rejected instead of being "cleaned", so the checked path is the forwarded path.

export type ClusterPath = { ok: true; workspace: string; rest: string } | { ok: false; reason: string };

/** A kcp workspace path such as `root:kedge:tenants:acme` (segments are DNS-1123 labels). */
const WORKSPACE_PATH = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Splits the raw (undecoded) request path of a `/clusters/...` request. */
export function parseClusterPath(rawPath: string): ClusterPath {
  const bad = unsafePathReason(rawPath);
  if (bad) return { ok: false, reason: bad };
  const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(rawPath);
  if (!m) return { ok: false, reason: 'expected /clusters/<workspace path>/…' };
  const workspace = m[1] ?? '';
  if (!WORKSPACE_PATH.test(workspace))
    return { ok: false, reason: `invalid workspace path ${JSON.stringify(workspace)}` };
  return { ok: true, workspace, rest: m[2] ?? '' };
}

/** Why a raw path is unsafe to route, or undefined when it is fine. */
export function unsafePathReason(rawPath: string): string | undefined {
  if (!rawPath.startsWith('/')) return 'path must be absolute';
  if (/%(2f|5c|2e|00)/i.test(rawPath)) return 'encoded separators or dots are not allowed in paths';
  if (rawPath.includes('\\') || rawPath.includes('\0')) return 'backslashes are not allowed in paths';
  const segments = rawPath.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.' || s === '..') return 'dot segments are not allowed in paths';
    if (s === '' && i !== segments.length - 1) return 'empty path segments are not allowed';
  }
  return undefined;
}

/** True when `workspace` is a descendant of `parent` (not `parent` itself): e.g. any tenant workspace. */
export function isUnderWorkspace(workspace: string, parent: string): boolean {
  return workspace.startsWith(`${parent}:`);
}
