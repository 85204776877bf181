// Reads kubeconfigs into @kubernetes/client-node's KubeConfig: one file, a KUBECONFIG list merged the way kubectl
// merges it, YAML text, or the pod's in-cluster service account; `loadKubeconfig` turns the result into the
// KubeClientOptions of the project's own client (see kubeconfig-options.ts). Every failure is a KedgeError with a
// KEDGE_KUBECONFIG_* code and a message naming the file and, where it applies, the context.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeClient } from './client.ts';
import type { KubeClientOptions } from './client.ts';
import { KubeconfigErrorCode, kubeconfigError } from './kubeconfig-errors.ts';
import { kubeClientOptionsFromKubeConfig } from './kubeconfig-options.ts';

export type KubeconfigSource =
  | { path: string }
  /** Merged like kubectl merges $KUBECONFIG: the first file to name an entry or a current-context wins; missing files are skipped. */
  | { paths: readonly string[] }
  | { yaml: string }
  /** The pod's service account; `pathPrefix` is prepended to /var/run/secrets/… (tests). */
  | { inCluster: true; pathPrefix?: string };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** `a:b::c` ($KUBECONFIG) → `['a', 'b', 'c']`. */
export function kubeconfigPaths(list: string): string[] {
  return list.split(delimiter).filter((p) => p !== '');
}

/** A human name for `source` in error messages. */
export function describeSource(source: KubeconfigSource): string {
  if ('path' in source) return `kubeconfig ${source.path}`;
  if ('paths' in source) return `kubeconfig ${source.paths.join(delimiter)}`;
  if ('yaml' in source) return 'kubeconfig text';
  return 'in-cluster service account';
}

/** Reads `source` into a client-node KubeConfig (nothing is run or contacted yet). */
export function readKubeConfig(source: KubeconfigSource): KubeConfig {
  if ('inCluster' in source) return inClusterKubeConfig(source.pathPrefix);
  if ('yaml' in source) return fromText(source.yaml, undefined, describeSource(source));
  const paths = 'path' in source ? [source.path] : source.paths;
  const present = paths.filter((p) => existsSync(p));
  if (present.length === 0)
    throw kubeconfigError(KubeconfigErrorCode.Invalid, `${describeSource(source)}: no such file`);
  const parts = present.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (cause) {
      throw kubeconfigError(KubeconfigErrorCode.Invalid, `kubeconfig ${p}: ${(cause as Error).message}`, cause);
    }
    return fromText(text, dirname(resolve(p)), `kubeconfig ${p}`);
  });
  return parts.length === 1 ? (parts[0] as KubeConfig) : merge(parts);
}

/** Reads `source` and resolves `context` (default: the current-context) to options for `new KubeClient`. */
export function loadKubeconfig(source: KubeconfigSource, context?: string): KubeClientOptions {
  return kubeClientOptionsFromKubeConfig(readKubeConfig(source), context, describeSource(source));
}

/** A KubeClient from a kubeconfig; `overrides` win (e.g. `userAgent`, `timeoutMs`). */
export function fromKubeconfig(
  source: KubeconfigSource,
  context?: string,
  overrides: Partial<KubeClientOptions> = {},
): KubeClient {
  return new KubeClient({ ...loadKubeconfig(source, context), ...overrides });
}

/**
 * One document. Relative file references are resolved against `baseDir` (the file's directory), as kubectl does:
 * client-node does this for CA/cert/key files; the exec command and `tokenFile` are added here. client-node drops
 * `tokenFile` (it knows only a non-standard `token-file`, read once), so it is picked from the YAML and mapped to
 * client-node's own token-file provider — the shape `loadFromCluster` uses for the service-account token.
 */
function fromText(text: string, baseDir: string | undefined, what: string): KubeConfig {
  const kc = new KubeConfig();
  let raw: { users?: { name?: unknown; user?: { tokenFile?: unknown } }[] } | null;
  try {
    raw = parse(text) as typeof raw;
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw new Error('not a YAML mapping');
    kc.loadFromString(raw === null ? '{}' : text);
    if (baseDir !== undefined) kc.makePathsAbsolute(baseDir);
  } catch (cause) {
    throw kubeconfigError(KubeconfigErrorCode.Invalid, `${what}: ${(cause as Error).message}`, cause);
  }
  const abs = (p: string): string => (baseDir === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const tokenFiles = new Map<string, string>();
  for (const u of raw?.users ?? []) {
    const f = u?.user?.tokenFile;
    if (typeof u?.name === 'string' && typeof f === 'string' && f !== '') tokenFiles.set(u.name, abs(f));
  }
  kc.users = kc.users.map((u): User => {
    const tokenFile = tokenFiles.get(u.name);
    const exec = u.exec as { command?: string } | null | undefined;
    // kubectl: a relative command with a separator is relative to the kubeconfig; a bare name is looked up in PATH.
    const command = exec?.command?.includes('/') ? abs(exec.command) : exec?.command;
    return {
      ...u,
      ...(exec && command !== exec.command ? { exec: { ...exec, command } } : {}),
      ...(tokenFile !== undefined && !u.token && !u.authProvider
        ? { authProvider: { name: 'tokenFile', config: { tokenFile } } }
        : {}),
    };
  });
  return kc;
}

/** kubectl's merge: the first file that names a cluster, user or context wins; so does the first current-context. */
function merge(parts: KubeConfig[]): KubeConfig {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const e of list) if (!seen.has(e.name)) seen.set(e.name, e);
    return [...seen.values()];
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: firstByName<Cluster>(parts.map((p) => p.clusters)),
    users: firstByName<User>(parts.map((p) => p.users)),
    contexts: firstByName<Context>(parts.map((p) => p.contexts)),
    currentContext: parts.map((p) => p.getCurrentContext()).find((c) => typeof c === 'string' && c !== ''),
  });
  return kc;
}

function inClusterKubeConfig(pathPrefix = ''): KubeConfig {
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = process.env;
  if (!host || !port) {
    throw kubeconfigError(
      KubeconfigErrorCode.Invalid,
      'in-cluster service account: not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromCluster(pathPrefix);
  return kc;
}
