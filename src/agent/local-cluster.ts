// The local cluster the agent manages: its KubeClient (reconciler, facts) and the raw connection settings the
// tunnel's k8s proxy needs (TLS material and the agent's own Authorization). Kubeconfig file(s) or in-cluster SA.
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
  /**
   * `Bearer <token>` of the agent's own identity, asked for each proxied request (the local client's own credential:
   * token, re-read token file or cached plugin credential), or undefined for client certificates.
   */
  authorization(): string | undefined | Promise<string | undefined>;
}

export interface LocalCluster {
  client: KubeClient;
  target: LocalTarget;
  describe: string;
}

/**
 * Options for the local cluster: `kubeconfig` is the --kubeconfig file or $KUBECONFIG (a `:` list, merged like
 * kubectl); undefined means the in-cluster service account. An exec/auth-provider credential is fetched once here,
 * so a broken plugin stops the agent before it joins.
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
  const client = new KubeClient({ ...opts, userAgent: `kedge-agent/${VERSION}` });
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
      authorization: () => client.authorizationHeader(),
    },
  };
}
