// Where the edge credential is kept once the join token was exchanged, so the agent restarts without a join token.
// Two stores: a file, <state-dir>/credential.json (dir 0700, file 0600, written atomically), and a Secret in the
// local cluster (credential-secret.ts) for agents in pods, whose filesystem does not outlive a rescheduling.
// Holds a secret: never log its content.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError, AgentErrorCode } from '../errors.ts';

export interface StoredCredential {
  token: string;
  cluster: string;
  edge: string;
  /** The hub URL the join answered with (informational; the --hub-url flag wins). */
  hubURL?: string;
  joinedAt: string;
}

/** The edge a stored credential must belong to. */
export interface CredentialOwner {
  cluster: string;
  edge: string;
}

export interface CredentialStore {
  /** For logs and messages: the file or `Secret <ns>/<name>`. */
  readonly where: string;
  /** The stored credential, or undefined when none. Throws StateInvalid when unreadable or for another edge. */
  load(): Promise<StoredCredential | undefined>;
  save(cred: StoredCredential): Promise<void>;
}

export const CREDENTIAL_FILE = 'credential.json';

export function credentialPath(stateDir: string): string {
  return join(stateDir, CREDENTIAL_FILE);
}

/**
 * Validates a stored credential's JSON. `where` names the store and `fix` what the operator does about a bad one,
 * e.g. "remove it and join again".
 */
export function parseCredential(text: string, expect: CredentialOwner, where: string, fix: string): StoredCredential {
  let parsed: Partial<StoredCredential>;
  try {
    parsed = JSON.parse(text) as Partial<StoredCredential>;
  } catch (cause) {
    throw new AgentError(AgentErrorCode.StateInvalid, `${where} is unreadable; ${fix}`, { cause });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof parsed.token !== 'string' ||
    parsed.token === '' ||
    typeof parsed.cluster !== 'string' ||
    typeof parsed.edge !== 'string'
  ) {
    throw new AgentError(AgentErrorCode.StateInvalid, `${where} is incomplete; ${fix}`);
  }
  if (parsed.cluster !== expect.cluster || parsed.edge !== expect.edge) {
    throw new AgentError(
      AgentErrorCode.StateInvalid,
      `${where} belongs to edge ${parsed.edge} in cluster ${parsed.cluster}, not ${expect.edge} in ${expect.cluster}; ${fix}`,
    );
  }
  return {
    token: parsed.token,
    cluster: parsed.cluster,
    edge: parsed.edge,
    hubURL: parsed.hubURL,
    joinedAt: parsed.joinedAt ?? '',
  };
}

export function serializeCredential(cred: StoredCredential): string {
  return `${JSON.stringify(cred, null, 2)}\n`;
}

/** The stored credential in <stateDir>/credential.json, or undefined when none. */
export function loadCredential(stateDir: string, expect: CredentialOwner): StoredCredential | undefined {
  const file = credentialPath(stateDir);
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AgentError(AgentErrorCode.StateInvalid, `${file} is unreadable; remove it and join again`, { cause });
  }
  return parseCredential(text, expect, file, 'remove it and join again, or use another --state-dir');
}

export function saveCredential(stateDir: string, cred: StoredCredential): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = credentialPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, serializeCredential(cred), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function fileCredentialStore(stateDir: string, expect: CredentialOwner): CredentialStore {
  return {
    where: credentialPath(stateDir),
    load: () => Promise.resolve(loadCredential(stateDir, expect)),
    save: (cred) => Promise.resolve(saveCredential(stateDir, cred)),
  };
}
