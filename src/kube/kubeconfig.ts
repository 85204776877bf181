// Loads a kubeconfig (file or YAML text) or the in-cluster service-account config into KubeClientOptions.
// Supported: token, tokenFile, client certificate/key (data or file), CA (data or file), insecure-skip-tls-verify,
// tls-server-name. exec and auth-provider plugins are refused with a typed error rather than silently ignored.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { KubeClient } from './client.ts';
import type { KubeClientOptions } from './client.ts';

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
  readonly code = 'KubeconfigInvalid';
}

type Named<T> = { name?: string } & Record<string, T | undefined | string>;
type RawCluster = Record<string, unknown>;
type RawUser = Record<string, unknown>;
type RawKubeconfig = {
  'current-context'?: string;
  clusters?: Named<RawCluster>[];
  users?: Named<RawUser>[];
  contexts?: Named<Record<string, unknown>>[];
};

export type KubeconfigSource = { path: string } | { yaml: string };

/** Reads the kubeconfig and resolves `context` (default: current-context) to client options. */
export function loadKubeconfig(source: KubeconfigSource, context?: string): KubeClientOptions {
  const text = 'path' in source ? readFileSync(source.path, 'utf8') : source.yaml;
  const baseDir = 'path' in source ? dirname(resolve(source.path)) : process.cwd();
  let raw: RawKubeconfig;
  try {
    raw = (parse(text) ?? {}) as RawKubeconfig;
  } catch (cause) {
    throw new KubeconfigError('kubeconfig is not valid YAML', { cause });
  }
  const ctxName = context ?? raw['current-context'];
  if (!ctxName) throw new KubeconfigError('kubeconfig has no current-context and none was given');
  const ctx = entry(raw.contexts, ctxName, 'context', 'context');
  const clusterName = str(ctx.cluster);
  if (!clusterName) throw new KubeconfigError(`context ${ctxName} names no cluster`);
  const cluster = entry(raw.clusters, clusterName, 'cluster', 'cluster');
  const userName = str(ctx.user);
  const user = userName ? entry(raw.users, userName, 'user', 'user') : {};

  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(`cluster ${clusterName} has no server`);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new KubeconfigError(`user ${userName}: exec and auth-provider credentials are not supported`);
  }
  const file = (p: unknown): Buffer | undefined => {
    const s = str(p);
    return s ? readFileSync(isAbsolute(s) ? s : resolve(baseDir, s)) : undefined;
  };
  const data = (d: unknown): Buffer | undefined => {
    const s = str(d);
    return s ? Buffer.from(s, 'base64') : undefined;
  };
  const tokenFile = str(user.tokenFile);
  return {
    server,
    ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster['tls-server-name']),
    token: str(user.token),
    tokenFile: tokenFile ? (isAbsolute(tokenFile) ? tokenFile : resolve(baseDir, tokenFile)) : undefined,
    clientCert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
    clientKey: data(user['client-key-data']) ?? file(user['client-key']),
  };
}

/** A KubeClient from a kubeconfig; `overrides` win (e.g. `userAgent`, `timeoutMs`). */
export function fromKubeconfig(
  source: KubeconfigSource,
  context?: string,
  overrides: Partial<KubeClientOptions> = {},
): KubeClient {
  return new KubeClient({ ...loadKubeconfig(source, context), ...overrides });
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Options for the API server of the pod's own cluster (KUBERNETES_SERVICE_HOST/PORT and the mounted SA token). */
export function inClusterOptions(env: NodeJS.ProcessEnv, saDir = SERVICE_ACCOUNT_DIR): KubeClientOptions {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new KubeconfigError('not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset');
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca: readFileSync(`${saDir}/ca.crt`), tokenFile: `${saDir}/token` };
}

function entry(list: Named<Record<string, unknown>>[] | undefined, name: string, field: string, what: string) {
  const found = list?.find((e) => e.name === name);
  const value = found?.[field];
  if (typeof value !== 'object' || value === null) throw new KubeconfigError(`kubeconfig has no ${what} named ${name}`);
  return value as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
