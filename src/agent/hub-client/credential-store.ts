// The edge credential on disk: <state-dir>/credential.json (dir 0700, file 0600, written atomically). Once stored,
// the agent restarts without a join token. Holds a secret: never log its content.
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

export const CREDENTIAL_FILE = 'credential.json';

export function credentialPath(stateDir: string): string {
  return join(stateDir, CREDENTIAL_FILE);
}

/** The stored credential, or undefined when none. Throws StateInvalid when it is unreadable or for another edge. */
export function loadCredential(
  stateDir: string,
  expect: { cluster: string; edge: string },
): StoredCredential | undefined {
  const file = credentialPath(stateDir);
  if (!existsSync(file)) return undefined;
  let parsed: Partial<StoredCredential>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredCredential>;
  } catch (cause) {
    throw new AgentError(AgentErrorCode.StateInvalid, `${file} is unreadable; remove it and join again`, { cause });
  }
  if (
    typeof parsed.token !== 'string' ||
    parsed.token === '' ||
    typeof parsed.cluster !== 'string' ||
    typeof parsed.edge !== 'string'
  ) {
    throw new AgentError(AgentErrorCode.StateInvalid, `${file} is incomplete; remove it and join again`);
  }
  if (parsed.cluster !== expect.cluster || parsed.edge !== expect.edge) {
    throw new AgentError(
      AgentErrorCode.StateInvalid,
      `${file} belongs to edge ${parsed.edge} in cluster ${parsed.cluster}, not ${expect.edge} in ${expect.cluster}; use another --state-dir`,
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

export function saveCredential(stateDir: string, cred: StoredCredential): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = credentialPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cred, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
