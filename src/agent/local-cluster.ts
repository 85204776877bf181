// The local cluster the agent manages: its KubeClient (reconciler, facts) and the raw connection settings the
// tunnel's k8s proxy needs (TLS material and the agent's own Authorization). Kubeconfig file or in-cluster SA.
import { readFileSync } from 'node:fs';
import { KubeClient } from '../kube/client.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { KubeconfigError, inClusterOptions, loadKubeconfig } from '../kube/kubeconfig.ts';
import { VERSION } from '../version.ts';
import { AgentError, AgentErrorCode } from './errors.ts';

export interface LocalTarget {
  url: URL;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  /** `Bearer <token>` of the agent's own identity (re-read from a token file), or undefined for client certificates. */
  authorization(): string | undefined;
}

export interface LocalCluster {
  client: KubeClient;
  target: LocalTarget;
  describe: string;
}

const TOKEN_FILE_TTL_MS = 60_000;

export function localClusterOptions(kubeconfig: string | undefined, context: string | undefined, env: NodeJS.ProcessEnv): KubeClientOptions {
  try {
    return kubeconfig !== undefined ? loadKubeconfig({ path: kubeconfig }, context) : inClusterOptions(env);
  } catch (cause) {
    const what = kubeconfig !== undefined ? `--kubeconfig ${kubeconfig}` : 'the in-cluster service account (no --kubeconfig or $KUBECONFIG)';
    const detail = cause instanceof KubeconfigError || cause instanceof Error ? cause.message : String(cause);
    throw new AgentError(AgentErrorCode.LocalClusterConfig, `cannot load ${what}: ${detail}`, { cause });
  }
}

export function openLocalCluster(opts: KubeClientOptions): LocalCluster {
  const client = new KubeClient({ ...opts, userAgent: `kedge-agent/${VERSION}` });
  let cached: { token: string; at: number } | undefined;
  const authorization = (): string | undefined => {
    if (opts.tokenFile !== undefined) {
      const now = Date.now();
      if (cached === undefined || now - cached.at > TOKEN_FILE_TTL_MS) {
        try {
          cached = { token: readFileSync(opts.tokenFile, 'utf8').trim(), at: now };
        } catch {
          // keep the last token we read; the API server will say 401 if it expired
        }
      }
      if (cached !== undefined) return `Bearer ${cached.token}`;
    }
    return opts.token !== undefined ? `Bearer ${opts.token}` : undefined;
  };
  const url = new URL(opts.server);
  return {
    client,
    describe: url.origin,
    target: {
      url,
      ca: opts.ca,
      cert: opts.clientCert,
      key: opts.clientKey,
      rejectUnauthorized: opts.insecureSkipTLSVerify !== true,
      servername: opts.tlsServerName,
      authorization,
    },
  };
}
