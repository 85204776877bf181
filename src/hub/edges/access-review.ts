// Authorisation of edges-proxy users: a SubjectAccessReview in the Edge's logical cluster (admin client) asking
// whether the user may `proxy` that `edges` object of kedge.faros.sh (kubectl, …/k8s) or `create` its `edges/ssh`
// subresource (…/ssh, granted separately). kcp evaluates the workspace's RBAC including its `access` check, so another
// tenant's user is denied. For kubectl the caller's role on the edge follows (docs/agent-protocol.md "Identity on the
// edge"): verb = role name on `edges/k8s`, strongest first, so the owner costs two reviews and a viewer four.
// Decisions (allowed and role together) are cached briefly per user, cluster, edge and access.
import { GROUP, Resource } from '../../api/constants.ts';
import { EDGE_ROLE_REVIEW, EDGE_ROLES, type EdgeRole } from '../../api/edge-identity.ts';
import { SSH_ACCESS } from '../../api/ssh.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { UserInfo } from '../auth/identity.ts';

export const PROXY_VERB = 'proxy';

/** What the user asks for: kubectl to the edge (`proxy` on `edges`) or SSH (`create` on `edges/ssh`). */
export type EdgeAccess = 'k8s' | 'ssh';

export interface AccessReviewOptions {
  allowTtlMs?: number;
  denyTtlMs?: number;
  now?: () => number;
}

/** The SAR spec for `user` reaching `edge`; `system:authenticated` is added (SAR does not add it itself). */
export function proxyReviewSpec(
  user: Pick<UserInfo, 'username' | 'uid' | 'groups'>,
  edge: string,
  access: EdgeAccess = 'k8s',
): Record<string, unknown> {
  const groups = user.groups.includes('system:authenticated') ? user.groups : [...user.groups, 'system:authenticated'];
  const resourceAttributes =
    access === 'ssh'
      ? {
          group: GROUP,
          resource: Resource.edges,
          subresource: SSH_ACCESS.subresource,
          verb: SSH_ACCESS.verb,
          name: edge,
        }
      : { group: GROUP, resource: Resource.edges, verb: PROXY_VERB, name: edge };
  return { user: user.username, uid: user.uid, groups, resourceAttributes };
}

/** The SAR spec asking whether `user` holds `role` on `edge` (verb = role name on `edges/k8s`). */
export function roleReviewSpec(
  user: Pick<UserInfo, 'username' | 'uid' | 'groups'>,
  edge: string,
  role: EdgeRole,
): Record<string, unknown> {
  const spec = proxyReviewSpec(user, edge);
  return { ...spec, resourceAttributes: { ...EDGE_ROLE_REVIEW, verb: role, name: edge } };
}

/** The outcome of the gate: may the user reach the edge at all, and (kubectl only) with which role. */
export interface EdgeDecision {
  allowed: boolean;
  /** The strongest of EDGE_ROLES the workspace RBAC grants; absent for SSH and when it grants none. */
  role?: EdgeRole;
}

export class EdgeAccessReviewer {
  readonly #admin: KubeClient;
  readonly #allowTtl: number;
  readonly #denyTtl: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { decision: EdgeDecision; until: number }>();
  reviews = 0;

  constructor(admin: KubeClient, opts: AccessReviewOptions = {}) {
    this.#admin = admin;
    this.#allowTtl = opts.allowTtlMs ?? 10_000;
    this.#denyTtl = opts.denyTtlMs ?? 5_000;
    this.#now = opts.now ?? Date.now;
  }

  /** The gate and, for `k8s`, the caller's role; one cache entry for both. */
  async review(user: UserInfo, cluster: string, edge: string, access: EdgeAccess = 'k8s'): Promise<EdgeDecision> {
    const key = JSON.stringify([user.username, user.groups, cluster, edge, access]);
    const hit = this.#cache.get(key);
    const now = this.#now();
    if (hit && hit.until > now) return hit.decision;
    const decision: EdgeDecision = { allowed: await this.#allowed(cluster, proxyReviewSpec(user, edge, access)) };
    if (decision.allowed && access === 'k8s') {
      for (const role of EDGE_ROLES) {
        if (await this.#allowed(cluster, roleReviewSpec(user, edge, role))) {
          decision.role = role;
          break;
        }
      }
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { decision, until: now + (decision.allowed ? this.#allowTtl : this.#denyTtl) });
    return decision;
  }

  async #allowed(cluster: string, spec: Record<string, unknown>): Promise<boolean> {
    this.reviews++;
    const review = await this.#admin
      .forCluster(cluster)
      .create<KubeObject & { status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: {},
        spec,
      });
    return review.status?.allowed === true;
  }
}
