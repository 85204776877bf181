// The SSH contract shared by hub, agent and CLI (docs/ssh.md, docs/agent-protocol.md §7): the edges-proxy address
// of an edge, the access check the hub makes, the WebSocket close codes a client sees, and the keepalive.
import { GROUP, Resource, VERSION } from './constants.ts';

export const EDGES_PROXY_PREFIX = '/services/edges-proxy';

/** `…/services/edges-proxy/clusters/<lc>/apis/kedge.faros.sh/v1alpha1/edges/<edge>/<sub>` on the hub. */
export function edgesProxyURL(hubURL: string, cluster: string, edge: string, sub: 'k8s' | 'ssh'): string {
  return `${hubURL.replace(/\/+$/, '')}${EDGES_PROXY_PREFIX}/clusters/${cluster}/apis/${GROUP}/${VERSION}/edges/${edge}/${sub}`;
}

/**
 * The SubjectAccessReview for `…/ssh`: `create` on the `edges/ssh` subresource (like `pods/exec`), so a tenant grants
 * SSH separately from kubectl access (`proxy` on `edges`). A role rule granting it:
 * `{apiGroups: [kedge.faros.sh], resources: [edges/ssh], verbs: [create], resourceNames: [<edge>]}`.
 */
export const SSH_ACCESS = { group: GROUP, resource: Resource.edges, subresource: 'ssh', verb: 'create' } as const;

/** WebSocket close codes of `…/ssh` after the upgrade (before it, errors are HTTP Status JSON). */
export const SshCloseCode = {
  /** sshd closed the connection (the SSH session ended as SSH sessions do). */
  Normal: 1000,
  /** The hub is shutting down. */
  GoingAway: 1001,
  /** The edge's agent disconnected mid-session (its tunnel closed). */
  EdgeDisconnected: 4001,
  /** The edge reset the stream: its agent could not reach sshd, or that connection failed. */
  EdgeReset: 4002,
} as const;
export type SshCloseCode = (typeof SshCloseCode)[keyof typeof SshCloseCode];

/** The hub pings every SSH WebSocket this often, so an idle session survives proxies with a 60 s idle timeout. */
export const SSH_KEEPALIVE_MS = 20_000;

/** The login name when neither `-l`, `user@edge` nor the identity gives one (as in the Go Kedge). */
export const DEFAULT_SSH_USER = 'root';
