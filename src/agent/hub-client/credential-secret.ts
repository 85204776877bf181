// The edge credential in a Secret of the local cluster (--credential-secret), for agents in pods: it survives pod
// restarts and rescheduling, and every replica of the Helm chart reads the one its leader stored. The Secret holds the
// same JSON as the file store under the key credential.json. The agent creates it on the first join (so it needs
// `create` on Secrets in its namespace, and `get`/`update` on this one name: deploy/charts/kedge-agent).
import { isForbidden, isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../edge-rbac.ts';
import { CREDENTIAL_FILE, parseCredential, serializeCredential } from './credential-store.ts';
import type { CredentialOwner, CredentialStore, StoredCredential } from './credential-store.ts';

type Secret = KubeObject & { type?: string; data?: Record<string, string> };

export interface SecretRef {
  namespace: string;
  name: string;
}

export function secretCredentialStore(local: KubeClient, ref: SecretRef, expect: CredentialOwner): CredentialStore {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  const path = `/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`;
  const failed = (verb: string, cause: unknown): AgentError => {
    const hint = isForbidden(cause)
      ? `: the agent's service account needs get, update (and create) on it`
      : `: ${(cause as Error).message}`;
    return new AgentError(AgentErrorCode.CredentialStoreFailed, `cannot ${verb} ${where}${hint}`, { cause });
  };
  const read = async (): Promise<Secret | undefined> => {
    try {
      return await local.get<Secret>(path, { timeoutMs: 15_000 });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw failed('read', err);
    }
  };
  return {
    where,
    load: async () => {
      const encoded = (await read())?.data?.[CREDENTIAL_FILE];
      if (encoded === undefined) return undefined;
      const fix = `delete the Secret (kubectl -n ${ref.namespace} delete secret ${ref.name}) and join again`;
      return parseCredential(Buffer.from(encoded, 'base64').toString('utf8'), expect, where, fix);
    },
    save: async (cred: StoredCredential) => {
      const current = await read();
      const secret: Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          ...(current?.metadata ?? {}),
          name: ref.name,
          namespace: ref.namespace,
          labels: { ...(current?.metadata?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
        },
        type: 'Opaque',
        data: { [CREDENTIAL_FILE]: Buffer.from(serializeCredential(cred)).toString('base64') },
      };
      try {
        if (current === undefined) await local.create(path.slice(0, path.lastIndexOf('/')), secret);
        else await local.update(path, secret);
      } catch (err) {
        throw failed('write', err);
      }
    },
  };
}
