// Where `kedge ssh NAME` connects and which host keys it trusts: the Edge read with the user's own client, checked
// to be a server edge with pinned keys, and the hub's …/edges/NAME/ssh address in the edge's logical cluster.
import { EdgeType } from '../api/constants.ts';
import { normaliseHostKeys, pinnedHostKeys } from '../api/host-keys.ts';
import { edgesProxyURL } from '../api/ssh.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { userClient, type ClientFlags } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { edgeCluster, edgePath, explain, type EdgeObject } from './edge-crud.ts';

export interface SshTarget {
  edge: string;
  url: string;
  /** Pinned host keys, authorized_keys form. */
  pinned: string[];
  authorization: string | undefined;
  tls: Pick<KubeClientOptions, 'ca' | 'insecureSkipTLSVerify' | 'clientCert' | 'clientKey' | 'tlsServerName'>;
}

/** Why this Edge cannot be reached by SSH (undefined when it can). */
export function sshProblem(e: EdgeObject): CLIError | undefined {
  const name = e.metadata.name ?? '';
  if (e.spec?.type !== EdgeType.Server)
    return new CLIError(
      CLIErrorCode.NotApplicable,
      `edge ${name} is a kubernetes edge (no SSH): use kubectl through the hub with 'kedge kubeconfig edge ${name}'`,
    );
  if (normaliseHostKeys(pinnedHostKeys(e.status)).length === 0)
    return new CLIError(
      CLIErrorCode.HostKeyNotPinned,
      `edge ${name}: the agent has not reported sshd's host keys yet, so its identity cannot be checked (is the agent running and able to reach sshd? 'kedge edge get ${name}')`,
    );
  return undefined;
}

export async function resolveSshTarget(edge: string, flags: ClientFlags): Promise<SshTarget> {
  const u = await userClient(flags);
  try {
    const e = await explain(u.client.get<EdgeObject>(edgePath(edge)), edge);
    const problem = sshProblem(e);
    if (problem) throw problem;
    const { ca, insecureSkipTLSVerify, clientCert, clientKey, tlsServerName } = u.options;
    return {
      edge,
      url: edgesProxyURL(u.hubURL, edgeCluster(e), edge, 'ssh'),
      pinned: pinnedHostKeys(e.status),
      // Asked again rather than u.token: an exec plugin may have refreshed it.
      authorization: await u.client.authorizationHeader(),
      tls: {
        ...(ca !== undefined ? { ca } : {}),
        ...(insecureSkipTLSVerify !== undefined ? { insecureSkipTLSVerify } : {}),
        ...(clientCert !== undefined ? { clientCert } : {}),
        ...(clientKey !== undefined ? { clientKey } : {}),
        ...(tlsServerName !== undefined ? { tlsServerName } : {}),
      },
    };
  } finally {
    await u.client.close();
  }
}
