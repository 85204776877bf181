// The agent's status report (docs/agent-protocol.md §4, PATCH …/edges/<edge>/status) turned into the merge patch the
// hub writes: agent-owned facts only, the heartbeat on the hub's clock, and SSH host keys pinned on the first report
// (the join is the trusted moment; docs/ssh.md). Later reports only update observedSSHHostKeys: a changed key is never
// pinned silently — the edge lifecycle turns the difference into HostKeyTrusted=False. Pure.
import { EdgeType } from '../../api/constants.ts';
import { keyLine, normaliseHostKeys, pinDecision, pinnedHostKeys } from '../../api/host-keys.ts';
import type { Edge } from '../../api/types.ts';
import { rfc3339 } from '../controllers/conditions.ts';

const FACT_FIELDS = ['hostname', 'agentVersion', 'kubernetesVersion', 'os', 'kernelVersion', 'architecture'] as const;
const MAX_FACT_CHARS = 1024;
const MAX_KEYS = 16;
const MAX_KEY_CHARS = 16_384;

export type AgentStatusPatch = { status: Record<string, string | string[]> };

/** undefined when the body is not `{"status": {…}}` with string facts and a list of key strings (→ 400). */
export function agentStatusPatch(body: Record<string, unknown>, edge: Edge, now: Date): AgentStatusPatch | undefined {
  const status = body.status;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return undefined;
  const report = status as Record<string, unknown>;
  const out: Record<string, string | string[]> = {};
  for (const f of FACT_FIELDS) {
    const v = report[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length > MAX_FACT_CHARS) return undefined;
    out[f] = v;
  }
  const reported = reportedKeys(report);
  if (reported === undefined) return undefined;
  if (reported.length > 0 && edge.spec?.type === EdgeType.Server) {
    const observed = normaliseHostKeys(reported).map(keyLine);
    if (observed.length > 0) out.observedSSHHostKeys = observed;
    const decision = pinDecision(pinnedHostKeys(edge.status), observed);
    if (decision.action === 'pin') {
      out.sshHostKeys = decision.keys.map(keyLine);
      out.sshHostKey = out.sshHostKeys[0] ?? '';
    }
  }
  out.lastHeartbeatTime = rfc3339(now);
  return { status: out };
}

/** `observedSSHHostKeys` (a list), or the Go agent's single `sshHostKey`; [] when neither; undefined when malformed. */
function reportedKeys(report: Record<string, unknown>): string[] | undefined {
  const list = report.observedSSHHostKeys;
  const single = report.sshHostKey;
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || list.length > MAX_KEYS) return undefined;
    if (!list.every((k): k is string => typeof k === 'string' && k.length <= MAX_KEY_CHARS)) return undefined;
    return list;
  }
  if (single !== undefined && single !== null) {
    if (typeof single !== 'string' || single.length > MAX_KEY_CHARS) return undefined;
    return [single];
  }
  return [];
}
