// `kedge edge trust-host-key NAME`: the one deliberate way to re-pin a server edge's SSH host keys after sshd's
// keys changed (docs/ssh.md). Shows pinned and observed fingerprints, asks, then writes the observed keys as the
// pinned ones with the user's own rights, guarded by resourceVersion so a concurrent change fails instead of winning.
import { EdgeType } from '../api/constants.ts';
import {
  describeHostKey,
  keyLine,
  normaliseHostKeys,
  pinDecision,
  pinnedHostKeys,
  type HostKey,
} from '../api/host-keys.ts';
import { isConflict } from '../kube/api-error.ts';
import { userClient, type ClientFlags } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { edgePath, explain, type EdgeObject, type Print } from './edge-crud.ts';
import { askTerminal, canPrompt } from './terminal.ts';

export type TrustDecision =
  { action: 'same'; pinned: HostKey[] } | { action: 'repin'; pinned: HostKey[]; observed: HostKey[] };

/** What trusting the observed keys would change; an error when there is nothing to trust. */
export function trustDecision(e: EdgeObject): TrustDecision {
  const name = e.metadata.name ?? '';
  if (e.spec?.type !== EdgeType.Server)
    throw new CLIError(CLIErrorCode.NotApplicable, `edge ${name} is a kubernetes edge: it has no SSH host keys`);
  const pinnedLines = pinnedHostKeys(e.status);
  const observedLines = e.status?.observedSSHHostKeys ?? [];
  const pinned = normaliseHostKeys(pinnedLines);
  const observed = normaliseHostKeys(observedLines);
  if (observed.length === 0)
    throw new CLIError(
      CLIErrorCode.HostKeyNotPinned,
      `edge ${name}: its agent has not reported any host key yet, so there is nothing to trust (is the agent running and able to reach sshd?)`,
    );
  return pinDecision(pinnedLines, observedLines).action === 'match'
    ? { action: 'same', pinned }
    : { action: 'repin', pinned, observed };
}

/** The merge patch that pins `observed`; metadata.resourceVersion makes it fail (409) if the Edge changed meanwhile. */
export function trustPatch(resourceVersion: string | undefined, observed: readonly HostKey[]): object {
  const lines = observed.map(keyLine);
  return {
    metadata: { resourceVersion },
    status: { sshHostKeys: lines, sshHostKey: lines[0] },
  };
}

function fingerprints(keys: readonly HostKey[]): string {
  return keys.length > 0 ? keys.map(describeHostKey).join('\n            ') : '(none)';
}

export async function trustHostKey(
  name: string,
  flags: ClientFlags & { yes?: boolean },
  print: Print,
  ask: (question: string) => Promise<string> = (q) => askTerminal(q, true),
  interactive = canPrompt(),
): Promise<void> {
  const { client } = await userClient(flags);
  try {
    const e = await explain(client.get<EdgeObject>(edgePath(name)), name);
    const d = trustDecision(e);
    if (d.action === 'same') {
      print(`Edge ${name}: sshd presents the pinned host keys; nothing to change.`);
      print(`  pinned:   ${fingerprints(d.pinned)}`);
      return;
    }
    print(`Edge ${name}: sshd presents host keys that are not the pinned ones.`);
    print(`  pinned:   ${fingerprints(d.pinned)}`);
    print(`  observed: ${fingerprints(d.observed)}`);
    if (!flags.yes) {
      if (!interactive)
        throw new CLIError(
          CLIErrorCode.FlagsInvalid,
          'no terminal to confirm on: check the fingerprints with the host owner, then run again with --yes',
        );
      const answer = await ask(
        `Trust the observed keys for edge ${name}? Only if the host's owner confirmed these fingerprints. [y/N] `,
      );
      if (!/^y(es)?$/i.test(answer.trim())) {
        print('Nothing changed.');
        return;
      }
    }
    try {
      await client.patch(`${edgePath(name)}/status`, trustPatch(e.metadata.resourceVersion, d.observed), 'merge');
    } catch (err) {
      if (isConflict(err))
        throw new CLIError(
          CLIErrorCode.Conflict,
          `edge ${name} changed while you were deciding (its keys may have moved again): nothing was changed; run 'kedge edge trust-host-key ${name}' again`,
        );
      await explain(Promise.reject(err), name);
    }
    print(`Edge ${name} now trusts: ${fingerprints(d.observed)}`);
  } finally {
    await client.close();
  }
}
