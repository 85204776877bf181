// The HostKeyTrusted condition of a server edge (docs/ssh.md): whether the host keys sshd presented at the agent's
// latest scan (status.observedSSHHostKeys) are the pinned ones (status.sshHostKeys). A difference is never accepted
// silently; the message names the fingerprints and the command that re-pins. Pure.
import { ConditionStatus, ConditionType, EdgeType } from '../../api/constants.ts';
import { describeHostKey, normaliseHostKeys, pinDecision, pinnedHostKeys } from '../../api/host-keys.ts';
import type { Edge } from '../../api/types.ts';
import type { ConditionInput } from './conditions.ts';

export const HostKeyReason = {
  Pinned: 'Pinned',
  HostKeyChanged: 'HostKeyChanged',
  NotReported: 'NotReported',
} as const;

/** undefined for kubernetes edges (the condition is not theirs). */
export function hostKeyCondition(edge: Edge): ConditionInput | undefined {
  if (edge.spec?.type !== EdgeType.Server) return undefined;
  const pinned = pinnedHostKeys(edge.status);
  const observed = edge.status?.observedSSHHostKeys ?? [];
  const cond = (status: ConditionStatus, reason: string, message: string): ConditionInput => ({
    type: ConditionType.HostKeyTrusted,
    status,
    reason,
    message,
  });
  const list = (keys: readonly string[]): string =>
    normaliseHostKeys(keys)
      .map((k) => describeHostKey(k))
      .join(', ');
  if (normaliseHostKeys(pinned).length === 0)
    return cond(ConditionStatus.Unknown, HostKeyReason.NotReported, "the agent has not reported sshd's host keys yet");
  const d = pinDecision(pinned, observed);
  if (d.action === 'changed') {
    const parts = [
      d.added.length > 0 ? `presents ${d.added.map((k) => describeHostKey(k)).join(', ')} (not pinned)` : '',
      d.removed.length > 0 ? `no longer presents ${d.removed.map((k) => describeHostKey(k)).join(', ')}` : '',
    ].filter((p) => p !== '');
    return cond(
      ConditionStatus.False,
      HostKeyReason.HostKeyChanged,
      `sshd ${parts.join(' and ')}; clients refuse it. If the host's owner confirms the change: kedge edge trust-host-key ${edge.metadata.name ?? ''}`,
    );
  }
  return cond(ConditionStatus.True, HostKeyReason.Pinned, `pinned: ${list(pinned)}`);
}
