// Idempotent "make it so" helpers for bootstrap objects: create when missing, update only when a desired field
// differs from what the server holds, so a restarted hub changes nothing (resourceVersions stay equal).
import type { KubeClient } from '../../kube/client.ts';
import { isAlreadyExists, isNotFound } from '../../kube/api-error.ts';
import { poll } from '../../util/wait.ts';

import type { KubeObject as AnyObject, ObjectMeta } from '../../kube/types.ts';

/** An object the hub creates: apiVersion, kind and name are always set. */
export type KubeObject = AnyObject & { apiVersion: string; kind: string; metadata: ObjectMeta & { name: string } };

/** True when every field in `desired` equals the field in `actual` (extra fields in `actual` are defaults). */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && desired.length === actual.length && desired.every((d, i) => isSubset(d, actual[i]));
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([k, v]) => isSubset(v, (actual as Record<string, unknown>)[k]));
  }
  return desired === actual;
}

export type EnsureResult = 'created' | 'updated' | 'unchanged';

/**
 * Ensures the object at `collectionPath/<name>` matches `desired` on the compared top-level fields (default:
 * everything but metadata and status). `immutable` objects are only created, never updated.
 */
export async function ensureObject<T extends KubeObject>(
  client: KubeClient,
  collectionPath: string,
  desired: T,
  opts: { immutable?: boolean } = {},
): Promise<{ result: EnsureResult; object: T }> {
  const path = `${collectionPath}/${desired.metadata.name}`;
  let existing: T | undefined;
  try {
    existing = await client.get<T>(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!existing) {
    try {
      return { result: 'created', object: await client.create<T>(collectionPath, desired) };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      existing = await client.get<T>(path);
    }
  }
  const fields = Object.keys(desired).filter(
    (k) => k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind',
  );
  const labelsMatch = isSubset(desired.metadata.labels ?? {}, existing.metadata.labels ?? {});
  if (opts.immutable || (labelsMatch && fields.every((f) => isSubset(desired[f], existing[f])))) {
    return { result: 'unchanged', object: existing };
  }
  const merged = {
    ...existing,
    ...Object.fromEntries(fields.map((f) => [f, desired[f]])),
    metadata: {
      ...existing.metadata,
      labels: {
        ...(existing.metadata.labels as object | undefined),
        ...(desired.metadata.labels as object | undefined),
      },
    },
  } as T;
  return { result: 'updated', object: await client.update<T>(path, merged) };
}

type Workspace = KubeObject & {
  spec?: { cluster?: string; URL?: string; type?: { name: string; path?: string } };
  status?: { phase?: string };
};

/**
 * Ensures a child Workspace `name` of type `root:universal` exists in the workspace `parent` (a client
 * scoped to it) and waits until it is Ready. Returns its logical cluster name.
 */
export async function ensureWorkspace(
  parent: KubeClient,
  name: string,
  signal?: AbortSignal,
  timeoutMs = 120_000,
): Promise<{ result: EnsureResult; cluster: string }> {
  const collection = '/apis/tenancy.kcp.io/v1alpha1/workspaces';
  const { result } = await ensureObject<Workspace>(
    parent,
    collection,
    {
      apiVersion: 'tenancy.kcp.io/v1alpha1',
      kind: 'Workspace',
      metadata: { name },
      spec: { type: { name: 'universal', path: 'root' } },
    },
    { immutable: true },
  );
  const ws = await poll(
    async () => {
      const w = await parent.get<Workspace>(`${collection}/${name}`);
      return w.status?.phase === 'Ready' && w.spec?.cluster ? w : undefined;
    },
    { what: `workspace ${name} to become Ready`, timeoutMs, intervalMs: 200, ...(signal ? { signal } : {}) },
  );
  // kcp's path index can lag the Ready phase by a moment (404 "page not found" on /clusters/<path>): wait until
  // the child answers under its path, which is how callers address it next.
  const parentPath = /\/clusters\/([^/]+)$/.exec(parent.server)?.[1];
  if (parentPath) {
    const child = parent.forCluster(`${parentPath}:${name}`);
    await poll(
      async () => {
        await child.list('/apis/tenancy.kcp.io/v1alpha1/workspaces', { limit: 1 });
        return true;
      },
      {
        what: `workspace ${parentPath}:${name} to be served`,
        timeoutMs,
        intervalMs: 200,
        ...(signal ? { signal } : {}),
      },
    );
  }
  return { result, cluster: ws.spec?.cluster ?? '' };
}
