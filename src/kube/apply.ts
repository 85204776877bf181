// Server-side apply: PATCH with `application/apply-patch+yaml` and a JSON body (JSON is valid YAML), owned by a
// field manager. `path` is the object's own URL path (…/namespaces/<ns>/<plural>/<name>).
import type { KubeClient } from './client.ts';
import type { KubeObject } from './types.ts';

export type ApplyOptions = {
  fieldManager: string;
  /** Take over fields owned by other managers instead of failing with 409. */
  force?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
};

export function apply<T extends KubeObject = KubeObject>(
  client: KubeClient,
  path: string,
  obj: KubeObject,
  opts: ApplyOptions,
): Promise<T> {
  return client.patch<T>(path, obj, 'apply', {
    query: {
      fieldManager: opts.fieldManager,
      force: opts.force ? 'true' : undefined,
      dryRun: opts.dryRun ? 'All' : undefined,
    },
    signal: opts.signal,
  });
}

/** Applies to the `status` subresource; `obj` carries apiVersion, kind, metadata.name (and namespace) and status. */
export function applyStatus<T extends KubeObject = KubeObject>(
  client: KubeClient,
  path: string,
  obj: KubeObject,
  opts: ApplyOptions,
): Promise<T> {
  return apply<T>(client, `${path}/status`, obj, opts);
}
