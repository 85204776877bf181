// Edge credentials (docs/agent-protocol.md §3): provisioning the per-Edge ServiceAccount and legacy token Secret in
// the tenant workspace, and verifying an agent's bearer token with a TokenReview in that logical cluster (cached ≤ 30 s
// by token digest, successes only).
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Logger } from 'pino';
import { API_VERSION, Kind, LABEL_EDGE } from '../../api/constants.ts';
import type { Edge } from '../../api/types.ts';
import { isAlreadyExists, isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import { edgeKey } from '../../kube/cluster-key.ts';
import type { KubeObject, OwnerReference } from '../../kube/types.ts';
import { poll, retry, StopPolling } from '../../util/wait.ts';
import { labelValueForName } from '../../api/labels.ts';
import {
  EDGE_NAMESPACE,
  SA_NAME_ANNOTATION,
  SA_TOKEN_TYPE,
  edgeSecretSelector,
  isEdgeTokenSecret,
  serviceAccountName,
  serviceAccountUsername,
  tokenSecretPrefix,
} from '../../api/names.ts';

export const CLUSTER_NAME_EXTRA = 'authentication.kubernetes.io/cluster-name';
const SA_CLUSTER_CLAIM = 'kubernetes.io/serviceaccount/clusterName';
const DEFAULT_CACHE_TTL_MS = 30_000;
const MAX_CACHE_ENTRIES = 50_000;

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

export interface CredentialOptions {
  cacheTtlMs?: number;
  /** How long to wait for kcp's token controller to fill a new token Secret. */
  tokenWaitMs?: number;
  now?: () => number;
}

export class EdgeCredentials {
  readonly #admin: KubeClient;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #tokenWaitMs: number;
  readonly #now: () => number;
  /** token digest → who it was verified for (the Edge by uid), and until when. */
  readonly #cache = new Map<string, { cluster: string; edge: string; edgeUID: string; until: number }>();
  /** The digests cached per edge (`cluster|edge`), so `invalidate` does not scan the cache: the tunnel endpoint
   *  invalidates every live session's edge at each re-check, which was quadratic in the number of tunnels. */
  readonly #byEdge = new Map<string, Set<string>>();
  reviews = 0;

  constructor(admin: KubeClient, log: Logger, opts: CredentialOptions = {}) {
    this.#admin = admin;
    this.#log = log;
    this.#ttl = Math.min(opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
    this.#tokenWaitMs = opts.tokenWaitMs ?? 20_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * True when `token` is the current credential of the Edge `edge` (name and uid) in logical cluster `cluster`: kcp
   * authenticates it as that Edge's ServiceAccount, and that ServiceAccount is owned by this very Edge (not by an
   * older Edge of the same name whose objects the garbage collector has not removed yet).
   */
  async verify(token: string, cluster: string, edge: string, edgeUID: string): Promise<boolean> {
    if (!looksLikeJWT(token)) return false;
    const digest = createHash('sha256').update(token).digest('base64url');
    const hit = this.#cache.get(digest);
    if (hit && hit.until > this.#now()) return hit.cluster === cluster && hit.edge === edge && hit.edgeUID === edgeUID;
    if (hit) this.#forget(digest);
    this.reviews++;
    const review = await this.#admin
      .forCluster(cluster)
      .create<KubeObject & { status?: TokenReviewStatus }>('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        metadata: {},
        spec: { token },
      });
    const user = review.status?.authenticated === true ? review.status.user : undefined;
    if (!user || user.username !== serviceAccountUsername(edge)) return false;
    // The SA authenticator is global: pin the token to this workspace by its cluster extra (or, if kcp leaves the
    // extra out, by the claim of the token it has just verified).
    const extra = user.extra?.[CLUSTER_NAME_EXTRA];
    const tokenCluster =
      extra !== undefined ? (extra.length === 1 ? extra[0] : undefined) : jwtClaim(token, SA_CLUSTER_CLAIM);
    if (tokenCluster !== cluster) return false;
    let sa: KubeObject;
    try {
      sa = await this.#admin
        .forCluster(cluster)
        .get(`/api/v1/namespaces/${EDGE_NAMESPACE}/serviceaccounts/${serviceAccountName(edge)}`);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    if (user.uid !== undefined && sa.metadata.uid !== user.uid) return false;
    if (sa.metadata.deletionTimestamp !== undefined) return false;
    if (!(sa.metadata.ownerReferences ?? []).some((o) => o.kind === Kind.Edge && o.uid === edgeUID)) return false;
    if (this.#cache.size >= MAX_CACHE_ENTRIES) {
      this.#cache.clear();
      this.#byEdge.clear();
    }
    this.#forget(digest);
    this.#cache.set(digest, { cluster, edge, edgeUID, until: this.#now() + this.#ttl });
    const key = edgeKey(cluster, edge);
    const digests = this.#byEdge.get(key);
    if (digests === undefined) this.#byEdge.set(key, new Set([digest]));
    else digests.add(digest);
    return true;
  }

  #forget(digest: string): void {
    const entry = this.#cache.get(digest);
    if (entry === undefined) return;
    this.#cache.delete(digest);
    const key = edgeKey(entry.cluster, entry.edge);
    const digests = this.#byEdge.get(key);
    digests?.delete(digest);
    if (digests?.size === 0) this.#byEdge.delete(key);
  }

  /** Forgets cached verifications for one edge (deleted, rotated) so the next request asks kcp again. */
  invalidate(cluster: string, edge: string): void {
    const key = edgeKey(cluster, edge);
    for (const digest of this.#byEdge.get(key) ?? []) this.#cache.delete(digest);
    this.#byEdge.delete(key);
  }

  /**
   * Ensures the ServiceAccount and token Secret of `edge` (owned by it) and returns the token once kcp filled it.
   * Objects owned by an older Edge of the same name are replaced.
   */
  async ensure(cluster: string, edge: Edge & KubeObject, signal?: AbortSignal): Promise<string> {
    const c = this.#admin.forCluster(cluster);
    const name = edge.metadata.name ?? '';
    const uid = edge.metadata.uid ?? '';
    const owner: OwnerReference = {
      apiVersion: API_VERSION,
      kind: Kind.Edge,
      name,
      uid,
      controller: true,
      blockOwnerDeletion: false,
    };
    const labels = { [LABEL_EDGE]: labelValueForName(name) };
    await createIfMissing(c, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: EDGE_NAMESPACE },
    });
    const saName = serviceAccountName(name);
    await this.#ensureOwned(c, `/api/v1/namespaces/${EDGE_NAMESPACE}/serviceaccounts`, saName, uid, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: saName, namespace: EDGE_NAMESPACE, labels, ownerReferences: [owner] },
    });
    const secrets = `/api/v1/namespaces/${EDGE_NAMESPACE}/secrets`;
    const current = (await edgeTokenSecrets(c, name, signal)).find(
      (s) => s.metadata.ownerReferences?.some((o) => o.uid === uid) && s.metadata.deletionTimestamp === undefined,
    );
    const secretName =
      current?.metadata.name ??
      (
        await c.create<KubeObject>(secrets, {
          apiVersion: 'v1',
          kind: 'Secret',
          type: SA_TOKEN_TYPE,
          metadata: {
            generateName: tokenSecretPrefix(name),
            namespace: EDGE_NAMESPACE,
            labels,
            ownerReferences: [owner],
            annotations: { [SA_NAME_ANNOTATION]: saName },
          },
        })
      ).metadata.name;
    return poll(
      async () => {
        const s = await c.get<KubeObject & { data?: Record<string, string> }>(`${secrets}/${secretName}`, { signal });
        const token = s.data?.token;
        return token ? Buffer.from(token, 'base64').toString('utf8') : undefined;
      },
      {
        what: `kcp's token controller to fill Secret ${EDGE_NAMESPACE}/${secretName}`,
        timeoutMs: this.#tokenWaitMs,
        intervalMs: 100,
        ...(signal ? { signal } : {}),
      },
    );
  }

  async #ensureOwned(
    c: KubeClient,
    collection: string,
    name: string,
    ownerUID: string,
    obj: KubeObject,
  ): Promise<void> {
    // AlreadyExists: an object of that name appeared between our read and our create; look at it again.
    await retry(
      async () => {
        let existing: KubeObject | undefined;
        try {
          existing = await c.get(`${collection}/${name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        if (existing !== undefined) {
          const owned =
            existing.metadata.ownerReferences?.some((o) => o.kind === Kind.Edge && o.uid === ownerUID) ?? false;
          if (owned && existing.metadata.deletionTimestamp === undefined) return;
          this.#log.info({ object: `${collection}/${name}` }, 'replacing an edge credential object of an older Edge');
          await c
            .delete(`${collection}/${name}`, { preconditions: { uid: existing.metadata.uid ?? '' } })
            .catch((err: unknown) => {
              if (!isNotFound(err)) throw err;
            });
          await waitGone(c, `${collection}/${name}`);
        }
        await c.create(collection, obj);
      },
      { attempts: 3, backoff: { initialMs: 0 }, retryIf: isAlreadyExists },
    );
  }
}

/** The token Secrets of `edge`'s ServiceAccount (any owner), found by label and annotation. */
export async function edgeTokenSecrets(
  c: KubeClient,
  edge: string,
  signal?: AbortSignal,
): Promise<(KubeObject & { type?: string })[]> {
  const list = await c.list<KubeObject & { type?: string }>(
    `/api/v1/namespaces/${EDGE_NAMESPACE}/secrets`,
    { labelSelector: edgeSecretSelector(edge) },
    signal,
  );
  return list.items.filter((s) => isEdgeTokenSecret(s, edge));
}

async function createIfMissing(c: KubeClient, collection: string, obj: KubeObject): Promise<void> {
  try {
    await c.create(collection, obj);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

async function waitGone(c: KubeClient, path: string): Promise<void> {
  await poll(
    async () => {
      try {
        await c.get(path);
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw new StopPolling(err as Error);
      }
    },
    { what: `${path} to be deleted`, timeoutMs: 10_000, intervalMs: 100 },
  );
}

/** A compact JWS: three base64url parts (a JWE has five). Checked before decoding so odd input never reaches jose. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Shaped like a JWT (header and claims both JSON objects, decoded by jose): anything else is not a service-account
 * token and never costs a TokenReview. The signature is not checked here: the key is kcp's, and the TokenReview is
 * the check.
 */
export function looksLikeJWT(token: string): boolean {
  if (token.length > 16_384 || !COMPACT_JWS.test(token)) return false;
  try {
    decodeProtectedHeader(token);
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

/** A string claim of a JWT kcp already verified (TokenReview); undefined when absent or not a string. */
export function jwtClaim(token: string, claim: string): string | undefined {
  try {
    const v = decodeJwt(token)[claim];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
