// The local cluster the agent manages: its KubeClient (reconciler, facts) and the raw connection settings the
// tunnel's k8s proxy needs (TLS material and the agent's own Authorization). Kubeconfig file(s) or in-cluster SA.
import { readFileSync } from 'node:fs';
import { KubeClient } from '../kube/client.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { kubeconfigPaths, loadKubeconfig } from '../kube/kubeconfig.ts';
import type { KubeconfigSource } from '../kube/kubeconfig.ts';
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

/**
 * Options for the local cluster: `kubeconfig` is the --kubeconfig file or $KUBECONFIG (a `:` list, merged like
 * kubectl); undefined means the in-cluster service account. An exec/auth-provider credential is fetched once here,
 * so a broken plugin stops the agent before it joins, and LocalTarget.authorization has a value from the start.
 */
export async function localClusterOptions(
  kubeconfig: string | undefined,
  context: string | undefined,
): Promise<KubeClientOptions> {
  const source: KubeconfigSource =
    kubeconfig !== undefined ? { paths: kubeconfigPaths(kubeconfig) } : { inCluster: true };
  try {
    const opts = loadKubeconfig(source, context);
    await opts.authorization?.();
    return opts;
  } catch (cause) {
    // The kubeconfig errors name the file(s) and context already.
    const detail = cause instanceof Error ? cause.message : String(cause);
    const hint = kubeconfig === undefined ? ' (no --kubeconfig or $KUBECONFIG given)' : '';
    throw new AgentError(
      AgentErrorCode.LocalClusterConfig,
      `cannot load the local cluster's config: ${detail}${hint}`,
      { cause },
    );
  }
}

export function openLocalCluster(opts: KubeClientOptions): LocalCluster {
  // The tunnel's k8s proxy needs the header synchronously: it gets the last one the hook produced (the reconciler and
  // heartbeat call the hook all the time) and asks for a fresh one in the background, which is cheap when cached.
  const hook = opts.authorization;
  let latest: string | undefined;
  const tracked = hook === undefined ? undefined : async () => (latest = await hook());
  const client = new KubeClient({ ...opts, authorization: tracked, userAgent: `kedge-agent/${VERSION}` });
  tracked?.().catch(() => {}); // primes `latest` (localClusterOptions already filled the plugin's cache)
  let cached: { token: string; at: number } | undefined;
  const authorization = (): string | undefined => {
    if (tracked !== undefined) {
      tracked().catch(() => {}); // a failing plugin shows up as errors of the client's own requests
      return latest;
    }
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
