// The fixed keys of Kedge's structured logs. Child loggers carry only these (src/util/log-keys.test.ts checks every
// child loggers in src/), so one query (`edge="eu-1"`, `controller="edge"`) finds a thing in every component's lines.

export const LOG_KEYS = [
  /** Which part of a process logs: `kcp-proxy`, `tunnel-endpoint`, `workload-reconciler` … */
  'component',
  /** Controller name: `virtualworkload`, `edge`, `edge-tunnel`, `events`. */
  'controller',
  /** A work-queue key (`<cluster>|<namespace>/<name>`, src/kube/cluster-key.ts). */
  'key',
  /** kcp logical cluster. */
  'cluster',
  'namespace',
  'name',
  /** Edge name (with `cluster`). */
  'edge',
  /** Tunnel stream id or kind. */
  'stream',
  /** Tunnel session id, and which side of it (`role`: client or server). */
  'session',
  'role',
  /** The resource an informer watches. */
  'resource',
  /** This replica's leader-election identity, and its term as leader. */
  'identity',
  'term',
] as const;
export type LogKey = (typeof LOG_KEYS)[number];
