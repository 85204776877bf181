// The audit trail of SSH sessions (docs/ssh.md): who reached which edge of which tenant, when, for how long, how
// many bytes each way and how it ended — as one structured log line and an Event on the Edge in the tenant
// workspace (`kubectl describe edge`, `kubectl get events`). The bytes are ciphertext: the hub cannot see commands.
import { API_VERSION, Kind } from '../../api/constants.ts';
import type { KubeObject } from '../../kube/types.ts';
import { formatDuration } from '../../util/duration.ts';
import { eventManifest } from '../controllers/events-recorder.ts';

/** How a session ended: a fixed set (the `ended` label of kedge_hub_ssh_sessions_total). */
export const SSH_ENDS = [
  'client_closed',
  'sshd_closed',
  'edge_disconnected',
  'edge_reset',
  'keepalive_timeout',
  'protocol_error',
  'hub_stopping',
] as const;
export type SshEnd = (typeof SSH_ENDS)[number];

export interface SshSessionRecord {
  user: string;
  /** The tenant workspace's logical cluster. */
  cluster: string;
  edge: string;
  started: Date;
  endedAt?: Date;
  bytesToEdge: number;
  bytesToClient: number;
  ended: SshEnd;
}

const ENDED_TEXT: Record<SshEnd, string> = {
  client_closed: 'the client closed the connection',
  sshd_closed: 'sshd closed the connection',
  edge_disconnected: "the edge's agent disconnected",
  edge_reset: 'the edge reset the connection',
  keepalive_timeout: 'the client stopped answering pings',
  protocol_error: 'the client broke the WebSocket protocol',
  hub_stopping: 'the hub shut down',
};

/** Fields of the audit log line. */
export function auditFields(r: SshSessionRecord): Record<string, string | number> {
  const end = r.endedAt ?? r.started;
  return {
    cluster: r.cluster,
    edge: r.edge,
    user: r.user,
    start: r.started.toISOString(),
    end: end.toISOString(),
    durationMs: end.getTime() - r.started.getTime(),
    bytesToEdge: r.bytesToEdge,
    bytesToClient: r.bytesToClient,
    ended: r.ended,
  };
}

/** The Event on the Edge (cluster-scoped, so in namespace default like kubectl's own events for such objects). */
export function auditEvent(r: SshSessionRecord, edge: KubeObject, reportingInstance: string): KubeObject {
  const end = r.endedAt ?? r.started;
  const abnormal = r.ended !== 'client_closed' && r.ended !== 'sshd_closed';
  const ms = end.getTime() - r.started.getTime();
  const took = ms < 1000 ? `${ms}ms` : formatDuration(ms); // a one-command session often takes less than a second
  const message =
    `SSH session of ${r.user} from ${r.started.toISOString()} for ${took}: ` +
    `${r.bytesToEdge} bytes to the edge, ${r.bytesToClient} bytes to the client; ended: ${ENDED_TEXT[r.ended]}`;
  return eventManifest(
    { apiVersion: API_VERSION, kind: Kind.Edge, metadata: { ...edge.metadata, namespace: undefined } },
    { type: abnormal ? 'Warning' : 'Normal', reason: 'SSHSession', message },
    end.getTime(),
    reportingInstance,
  );
}
