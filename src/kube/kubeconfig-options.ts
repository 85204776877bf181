// One context of a kubeconfig (kubeconfig.ts) → the KubeClientOptions of the project's own (kcp-aware, undici) client:
// server, CA, insecure, TLS server name, client certificate, and the credential. Static credentials (token, token
// file, client certificate, basic auth) become plain options; exec and auth-provider users (EKS, GKE, OIDC, …)
// become an `authorization` hook that asks client-node per request — client-node runs the plugin and caches its
// ExecCredential until `expirationTimestamp`, so the hook is cheap between refreshes and never holds a stale token.
// client-node is imported on the hook's first call only: it costs ~85 MB RSS, which static credentials never need.
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { KubeConfig as ClientNodeKubeConfig, User } from '@kubernetes/client-node';
import type { KubeClientOptions } from './client.ts';
import type { KubeConfig } from './kubeconfig.ts';
import { KubeconfigErrorCode, kubeconfigError } from './kubeconfig-errors.ts';

/**
 * Resolves `context` (default: the current-context) of `kc`. `origin` names the kubeconfig in error messages.
 * Throws KEDGE_KUBECONFIG_INVALID for a missing context/cluster/user or unreadable file, and
 * KEDGE_KUBECONFIG_UNSUPPORTED for proxy-url and impersonation (the Kedge client has neither).
 */
export function kubeClientOptionsFromKubeConfig(
  kc: KubeConfig,
  context?: string,
  origin = 'kubeconfig',
): KubeClientOptions {
  const ctxName = context ?? kc.getCurrentContext();
  const invalid = (what: string): Error =>
    kubeconfigError(KubeconfigErrorCode.Invalid, `${origin}, context "${ctxName}": ${what}`);
  if (!ctxName)
    throw kubeconfigError(KubeconfigErrorCode.Invalid, `${origin}: no current-context set and no context given`);
  const ctx = kc.getContextObject(ctxName);
  if (!ctx) throw kubeconfigError(KubeconfigErrorCode.Invalid, `${origin}: no context named "${ctxName}"`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw invalid(`no cluster named "${ctx.cluster}"`);
  const user = ctx.user ? kc.getUser(ctx.user) : null;
  if (ctx.user && !user) throw invalid(`no user named "${ctx.user}"`);
  if (cluster.proxyUrl) {
    throw kubeconfigError(
      KubeconfigErrorCode.Unsupported,
      `${origin}, context "${ctxName}": cluster "${cluster.name}" uses proxy-url, which Kedge does not support`,
    );
  }
  if (user?.impersonateUser) {
    throw kubeconfigError(
      KubeconfigErrorCode.Unsupported,
      `${origin}, context "${ctxName}": user "${user.name}" impersonates ("as"), which Kedge does not support`,
    );
  }
  const material = (file: string | undefined, data: string | undefined, what: string): Buffer | undefined => {
    // kubectl: *-data wins over the file.
    if (data) return Buffer.from(data, 'base64');
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (cause) {
      throw kubeconfigError(
        KubeconfigErrorCode.Invalid,
        `${origin}, context "${ctxName}": cannot read ${what} ${file}: ${(cause as Error).message}`,
        cause,
      );
    }
  };
  const options: KubeClientOptions = {
    server: cluster.server,
    ca: material(cluster.caFile, cluster.caData, 'certificate-authority'),
    insecureSkipTLSVerify: cluster.skipTLSVerify === true,
    tlsServerName: cluster.tlsServerName || undefined,
    clientCert: material(user?.certFile ?? undefined, user?.certData ?? undefined, 'client-certificate'),
    clientKey: material(user?.keyFile ?? undefined, user?.keyData ?? undefined, 'client-key'),
  };
  if (!user) return options;
  const tokenFile = (user.authProvider as { config?: { tokenFile?: string } } | null | undefined)?.config?.tokenFile;
  if (user.token) options.token = user.token;
  else if (tokenFile && (user.authProvider as { name?: string }).name === 'tokenFile') options.tokenFile = tokenFile;
  else if (user.exec || user.authProvider)
    options.authorization = pluginAuthorization(user, `${origin}, context "${ctxName}"`);
  else if (user.username) {
    const basic = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    options.authorization = () => basic;
  }
  return options;
}

/**
 * The Authorization header of an exec/auth-provider user, fetched through a KubeConfig holding just that user
 * (so client-node reads no CA or cert files per call). Concurrent callers share one plugin run: client-node's cache
 * is filled only when a run completes, and an agent starts several requests at once.
 */
function pluginAuthorization(user: User, where: string): () => Promise<string | undefined> {
  let pinnedKubeConfig: Promise<ClientNodeKubeConfig> | undefined;
  const pinned = (): Promise<ClientNodeKubeConfig> =>
    (pinnedKubeConfig ??= import('@kubernetes/client-node').then(({ KubeConfig: ClientNodeKubeConfig }) => {
      const kc = new ClientNodeKubeConfig();
      const pinnedUser: User = { name: user.name, exec: user.exec, authProvider: user.authProvider };
      // The cluster is a placeholder: only the credential is used, and client-node refuses http:// servers here.
      kc.loadFromClusterAndUser(
        { name: 'credential', server: 'https://credential.invalid', skipTLSVerify: false },
        pinnedUser,
      );
      return kc;
    }));
  const plugin = user.exec
    ? `exec plugin ${(user.exec as { command?: string }).command ?? '(no command)'}`
    : `auth-provider ${(user.authProvider as { name?: string }).name ?? '?'}`;
  let inflight: Promise<string | undefined> | undefined;
  const fetchHeader = async (): Promise<string | undefined> => {
    const opts: RequestOptions = {};
    try {
      await (await pinned()).applyToHTTPSOptions(opts);
    } catch (cause) {
      const detail = cause instanceof Error && cause.message.trim() !== '' ? cause.message.trim() : String(cause);
      throw kubeconfigError(
        KubeconfigErrorCode.Credential,
        `${where}: ${plugin} of user "${user.name}" failed: ${detail}`,
        cause,
      );
    }
    if (opts.cert !== undefined || opts.key !== undefined) {
      // Kedge's client fixes its TLS identity when it is created; a rotating plugin certificate would need a new pool.
      throw kubeconfigError(
        KubeconfigErrorCode.Unsupported,
        `${where}: ${plugin} returned a client certificate; Kedge supports plugins that return a token`,
      );
    }
    const headers = opts.headers as Record<string, unknown> | undefined; // client-node sets a plain object
    const header = headers?.Authorization ?? headers?.authorization;
    const value = typeof header === 'string' ? header.trim() : undefined;
    if (!value || value === 'Bearer')
      throw kubeconfigError(
        KubeconfigErrorCode.Credential,
        `${where}: ${plugin} of user "${user.name}" returned no token`,
      );
    return value;
  };
  return () => {
    if (inflight === undefined) {
      const p = fetchHeader();
      inflight = p;
      void p.then(
        () => (inflight = inflight === p ? undefined : inflight),
        () => (inflight = inflight === p ? undefined : inflight),
      );
    }
    return inflight;
  };
}
