// Reads kubeconfigs into their clusters, users and contexts (client-node's shapes): one file, a KUBECONFIG list merged
// the way kubectl merges it, YAML text, or the pod's in-cluster service account; `loadKubeconfig` turns the result into
// the KubeClientOptions of the project's own client (see kubeconfig-options.ts). Every failure is a KedgeError with a
// KEDGE_KUBECONFIG_* code and a message naming the file and, where it applies, the context.
// Only client-node's entry parser (config_types.js, which loads nothing else) is imported here: its KubeConfig class
// loads the whole generated API (~85 MB RSS, docs/benchmarks.md "Agent memory"), so it is loaded only for an exec or
// auth-provider user, by kubeconfig-options.ts.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { isIPv6 } from 'node:net';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
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

/** The entries of a kubeconfig, with the look-ups client-node's KubeConfig has for them. */
export class KubeConfig {
  readonly clusters: Cluster[];
  readonly users: User[];
  readonly contexts: Context[];
  readonly currentContext: string | undefined;

  constructor(clusters: Cluster[], users: User[], contexts: Context[], currentContext: string | undefined) {
    this.clusters = clusters;
    this.users = users;
    this.contexts = contexts;
    this.currentContext = currentContext;
  }

  getCurrentContext(): string | undefined {
    return this.currentContext;
  }

  getContextObject(name: string): Context | undefined {
    return this.contexts.find((c) => c.name === name);
  }

  getCluster(name: string): Cluster | undefined {
    return this.clusters.find((c) => c.name === name);
  }

  getUser(name: string): User | undefined {
    return this.users.find((u) => u.name === name);
  }
}

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

/** Reads `source` into its entries (nothing is run or contacted yet). */
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
  type Raw = {
    clusters?: unknown;
    contexts?: unknown;
    users?: { name?: unknown; user?: { tokenFile?: unknown } }[];
    'current-context'?: unknown;
  };
  let raw: Raw | null;
  let clusters: Cluster[];
  let contexts: Context[];
  let parsedUsers: User[];
  try {
    raw = parse(text) as Raw | null;
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw new Error('not a YAML mapping');
    clusters = newClusters(raw?.clusters);
    contexts = newContexts(raw?.contexts);
    parsedUsers = newUsers(raw?.users);
  } catch (cause) {
    throw kubeconfigError(KubeconfigErrorCode.Invalid, `${what}: ${(cause as Error).message}`, cause);
  }
  const abs = (p: string): string => (baseDir === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const tokenFiles = new Map<string, string>();
  for (const u of raw?.users ?? []) {
    const f = u?.user?.tokenFile;
    if (typeof u?.name === 'string' && typeof f === 'string' && f !== '') tokenFiles.set(u.name, abs(f));
  }
  const absFile = <T extends string | undefined | null>(f: T): T => (f ? (abs(f) as T) : f);
  const users = parsedUsers.map((u): User => {
    const tokenFile = tokenFiles.get(u.name);
    const exec = u.exec as { command?: string } | null | undefined;
    // kubectl: a relative command with a separator is relative to the kubeconfig; a bare name is looked up in PATH.
    const command = exec?.command?.includes('/') ? abs(exec.command) : exec?.command;
    return {
      ...u,
      certFile: absFile(u.certFile),
      keyFile: absFile(u.keyFile),
      ...(exec && command !== exec.command ? { exec: { ...exec, command } } : {}),
      ...(tokenFile !== undefined && !u.token && !u.authProvider
        ? { authProvider: { name: 'tokenFile', config: { tokenFile } } }
        : {}),
    };
  });
  const current = raw?.['current-context'];
  return new KubeConfig(
    clusters.map((c) => ({ ...c, caFile: absFile(c.caFile) })),
    users,
    contexts,
    typeof current === 'string' ? current : undefined,
  );
}

/** kubectl's merge: the first file that names a cluster, user or context wins; so does the first current-context. */
function merge(parts: KubeConfig[]): KubeConfig {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const e of list) if (!seen.has(e.name)) seen.set(e.name, e);
    return [...seen.values()];
  };
  return new KubeConfig(
    firstByName<Cluster>(parts.map((p) => p.clusters)),
    firstByName<User>(parts.map((p) => p.users)),
    firstByName<Context>(parts.map((p) => p.contexts)),
    parts.map((p) => p.getCurrentContext()).find((c) => typeof c === 'string' && c !== ''),
  );
}

function inClusterKubeConfig(pathPrefix = ''): KubeConfig {
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = process.env;
  if (!host || !port) {
    throw kubeconfigError(
      KubeconfigErrorCode.Invalid,
      'in-cluster service account: not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)',
    );
  }
  // As client-node's loadFromCluster: plain HTTP on the usual insecure ports, the token file re-read by the client.
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const sa = (f: string): string => `${pathPrefix}${join(SERVICE_ACCOUNT_DIR, f)}`;
  const namespaceFile = sa('namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8') : undefined;
  return new KubeConfig(
    [
      {
        name: 'inCluster',
        caFile: sa('ca.crt'),
        server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        skipTLSVerify: false,
      },
    ],
    [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: sa('token') } } }],
    [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
    'inClusterContext',
  );
}
