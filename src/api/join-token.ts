// Join tokens (docs/agent-protocol.md §2): a random secret the user hands to the agent once. Only its SHA-256 and
// expiry are stored, in a Secret the CLI creates with the user's rights; the hub checks it in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_VERSION, Kind, LABEL_EDGE } from './constants.ts';
import { labelValueForName } from './labels.ts';
import { EDGE_NAMESPACE, joinSecretName } from './names.ts';

export const JOIN_SECRET_TYPE = 'kedge.faros.sh/join-token';
export const DEFAULT_JOIN_TTL_MS = 60 * 60_000;
export const MAX_JOIN_TTL_MS = 7 * 24 * 60 * 60_000;

export interface JoinSecret {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  type?: string;
  data?: Record<string, string>;
}

export function newJoinToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenDigestHex(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The Secret `kedge join-command` creates; `edge` gives the owner reference (deleting the Edge removes it). */
export function joinSecretManifest(edge: { name: string; uid: string }, token: string, expiresAt: Date): JoinSecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: joinSecretName(edge.name),
      namespace: EDGE_NAMESPACE,
      labels: { [LABEL_EDGE]: labelValueForName(edge.name) },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: Kind.Edge,
          name: edge.name,
          uid: edge.uid,
          controller: true,
          blockOwnerDeletion: false,
        },
      ],
    },
    type: JOIN_SECRET_TYPE,
    data: {
      'token-sha256': Buffer.from(tokenDigestHex(token)).toString('base64'),
      'expires-at': Buffer.from(expiresAt.toISOString()).toString('base64'),
    },
  };
}

export type JoinCheck = { ok: true } | { ok: false; why: 'type' | 'malformed' | 'mismatch' | 'expired' };

/** Whether `token` matches the stored join Secret at `now`. The reason is for logs only; callers answer 401 alike. */
export function checkJoinToken(secret: JoinSecret, token: string, now: Date): JoinCheck {
  if (secret.type !== JOIN_SECRET_TYPE) return { ok: false, why: 'type' };
  const stored = decode(secret.data?.['token-sha256']);
  const expires = Date.parse(decode(secret.data?.['expires-at']) ?? '');
  if (stored === undefined || !/^[0-9a-f]{64}$/.test(stored) || Number.isNaN(expires))
    return { ok: false, why: 'malformed' };
  const match = timingSafeEqual(Buffer.from(stored, 'hex'), createHash('sha256').update(token).digest());
  if (!match) return { ok: false, why: 'mismatch' };
  if (now.getTime() >= expires) return { ok: false, why: 'expired' };
  return { ok: true };
}

function decode(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}
