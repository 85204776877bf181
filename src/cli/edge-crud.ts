// `kedge edge create|list|get|delete`: Edges in the user's tenant workspace, through the hub under the user's own
// identity. `create --wait` prints a join command and shows progress until the edge is Ready.
import { stringify } from 'yaml';
import {
  API_VERSION,
  ANNOTATION_KCP_CLUSTER,
  EdgePhase,
  EdgeType,
  GROUP,
  Kind,
  Resource,
  VERSION,
} from '../api/constants.ts';
import { describeHostKey, normaliseHostKeys, pinDecision, pinnedHostKeys } from '../api/host-keys.ts';
import type { Edge } from '../api/types.ts';
import { isApiError, transportCode } from '../kube/api-error.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/types.ts';
import { userClient, type ClientFlags } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { poll, StopPolling } from '../util/wait.ts';

export type EdgeObject = Edge & KubeObject;
export type Print = (line: string) => void;

export const EDGES_PATH = `/apis/${GROUP}/${VERSION}/${Resource.edges}`;

export function edgePath(name: string): string {
  return `${EDGES_PATH}/${name}`;
}

/** Parses `k=v,k2=v2` (empty → {}). */
export function parseLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0)
      throw new CLIError(CLIErrorCode.FlagsInvalid, `invalid label ${JSON.stringify(p)}: use key=value[,key=value]`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export interface CreateFlags extends ClientFlags {
  type?: string;
  labels?: string;
  sshPort?: string;
  unschedulable?: boolean;
}

export function edgeManifest(name: string, flags: CreateFlags): EdgeObject {
  const type = flags.type ?? EdgeType.Kubernetes;
  if (type !== EdgeType.Kubernetes && type !== EdgeType.Server)
    throw new CLIError(CLIErrorCode.FlagsInvalid, `--type must be kubernetes or server, not ${JSON.stringify(type)}`);
  if (flags.sshPort !== undefined && type !== EdgeType.Server)
    throw new CLIError(CLIErrorCode.FlagsInvalid, '--ssh-port is only for --type server');
  const port = flags.sshPort === undefined ? undefined : Number(flags.sshPort);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    throw new CLIError(CLIErrorCode.FlagsInvalid, '--ssh-port must be a port number (1-65535)');
  const labels = parseLabels(flags.labels);
  return {
    apiVersion: API_VERSION,
    kind: Kind.Edge,
    metadata: { name, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
    spec: {
      type,
      ...(port !== undefined ? { server: { sshPort: port } } : {}),
      ...(flags.unschedulable ? { unschedulable: true } : {}),
    },
  };
}

export async function createEdge(name: string, flags: CreateFlags, print: Print): Promise<EdgeObject> {
  const { client } = await userClient(flags);
  const created = await explain(client.create<EdgeObject>(EDGES_PATH, edgeManifest(name, flags)), name);
  print(`edge/${name} created`);
  return created;
}

/** Polls until the Edge is Ready, printing each phase change; throws after `timeoutMs`. */
export async function waitForReady(
  client: KubeClient,
  name: string,
  timeoutMs: number,
  print: Print,
  intervalMs = 1000,
): Promise<EdgeObject> {
  const started = Date.now();
  let last = '';
  try {
    return await poll(
      async () => {
        const e = await explain(client.get<EdgeObject>(edgePath(name)), name).catch((err: unknown) => {
          throw new StopPolling(err as Error); // not found, forbidden …: waiting longer cannot help
        });
        const phase = e.status?.phase ?? EdgePhase.Pending;
        if (phase === EdgePhase.Ready) {
          print(`edge/${name} is Ready (${Math.round((Date.now() - started) / 1000)} s)`);
          return e;
        }
        const msg =
          phase === EdgePhase.Pending
            ? 'waiting for its agent to join and connect'
            : `${phase}: waiting for its agent to reconnect`;
        if (msg !== last) print(`edge/${name}: ${msg}…`);
        last = msg;
        return undefined;
      },
      { what: `edge ${name} to become Ready`, timeoutMs, intervalMs },
    );
  } catch (err) {
    if (err instanceof CLIError) throw err;
    throw new CLIError(
      CLIErrorCode.Timeout,
      `edge ${name} did not become Ready within ${Math.round(timeoutMs / 1000)} s: is the agent running? (check its log)`,
      { cause: err },
    );
  }
}

export async function listEdges(flags: ClientFlags, print: Print): Promise<void> {
  const { client } = await userClient(flags);
  const list = await explain(client.listAll<EdgeObject>(EDGES_PATH), '');
  if (list.items.length === 0) {
    print("No edges yet. Create one with 'kedge edge create <name> --labels k=v'.");
    return;
  }
  print(table([HEADER, ...list.items.map(row)]));
}

export async function getEdge(name: string, flags: ClientFlags & { output?: string }, print: Print): Promise<void> {
  const { client } = await userClient(flags);
  const e = await explain(client.get<EdgeObject>(edgePath(name)), name);
  if (flags.output === 'yaml') return print(stringify(e).trimEnd());
  if (flags.output === 'json') return print(JSON.stringify(e, null, 2));
  if (flags.output !== undefined && flags.output !== 'wide')
    throw new CLIError(CLIErrorCode.FlagsInvalid, '-o must be yaml, json or wide');
  print(table([HEADER, row(e)]));
  if (flags.output === 'wide' || e.status?.URL) print(`URL: ${e.status?.URL ?? '(set when the agent joins)'}`);
  for (const line of serverDetails(e)) print(line);
}

/** `edge get` for a server edge: the host's facts and every pinned key, with the observed ones when they differ. */
export function serverDetails(e: EdgeObject): string[] {
  if (e.spec?.type !== EdgeType.Server) return [];
  const s = e.status;
  const lines: string[] = [];
  const host = [s?.os, s?.kernelVersion, s?.architecture].filter(Boolean).join(' ');
  if (host) lines.push(`Host: ${host}${s?.hostname ? ` (${s.hostname})` : ''}`);
  lines.push(`SSH port: ${e.spec.server?.sshPort ?? 22}`);
  const pinned = normaliseHostKeys(pinnedHostKeys(s));
  if (pinned.length === 0) lines.push("Host keys: none pinned yet (the agent reports sshd's keys after it joins)");
  else lines.push('Host keys (pinned):', ...pinned.map((k) => `  ${describeHostKey(k)}`));
  const observed = s?.observedSSHHostKeys ?? [];
  if (pinned.length > 0 && pinDecision(pinnedHostKeys(s), observed).action === 'changed') {
    lines.push(
      'Host keys now presented by sshd (NOT trusted):',
      ...normaliseHostKeys(observed).map((k) => `  ${describeHostKey(k)}`),
      `  If the host's owner confirms them: kedge edge trust-host-key ${e.metadata.name ?? ''}`,
    );
  }
  return lines;
}

export async function deleteEdge(name: string, flags: ClientFlags, print: Print): Promise<void> {
  const { client } = await userClient(flags);
  await explain(client.delete(edgePath(name)), name);
  print(`edge/${name} deleted (its agent credential is revoked)`);
}

/** The logical cluster an Edge lives in (kcp annotates every object with it). */
export function edgeCluster(e: EdgeObject): string {
  const lc = e.metadata.annotations?.[ANNOTATION_KCP_CLUSTER];
  if (!lc)
    throw new CLIError(
      CLIErrorCode.Rejected,
      'the hub did not report the workspace of this edge (no kcp.io/cluster annotation): is this a Kedge hub?',
    );
  return lc;
}

const HEADER = ['NAME', 'TYPE', 'PHASE', 'CONNECTED', 'AGE', 'LABELS', 'HOST KEY'];

function row(e: EdgeObject): string[] {
  const labels = Object.entries(e.metadata.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    e.metadata.name ?? '',
    e.spec?.type ?? '',
    e.status?.phase ?? EdgePhase.Pending,
    String(e.status?.connected ?? false),
    age(e.metadata.creationTimestamp),
    labels || '<none>',
    e.spec?.type === EdgeType.Server ? (normaliseHostKeys(pinnedHostKeys(e.status))[0]?.fingerprint ?? '-') : '-',
  ];
}

function age(ts: string | undefined): string {
  const t = ts ? Date.parse(ts) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Columns padded to the widest cell plus `gap` spaces, as kubectl prints them; the last column is not padded. */
export function table(rows: string[][], gap = 3): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + gap)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** Turns API failures into messages that say what to do next. */
export async function explain<T>(p: Promise<T>, name: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!isApiError(err)) {
      const code = transportCode(err);
      if (code === 'ECONNREFUSED')
        throw new CLIError(CLIErrorCode.HubUnreachable, 'cannot reach the hub (connection refused): is it running?');
      throw err;
    }
    if (err.code === 401)
      throw new CLIError(CLIErrorCode.Unauthorized, "the hub did not accept your credentials: run 'kedge login' again");
    if (err.code === 403)
      throw new CLIError(CLIErrorCode.Forbidden, `not allowed: ${err.status?.message ?? 'forbidden'}`);
    if (err.code === 404 && name)
      throw new CLIError(CLIErrorCode.NotFound, `edge ${name} not found: 'kedge edge list' shows your edges`);
    if (err.code === 409 && name)
      throw new CLIError(
        CLIErrorCode.AlreadyExists,
        `edge ${name} already exists: pick another name, or 'kedge edge delete ${name}' first`,
      );
    if (err.code === 422)
      throw new CLIError(CLIErrorCode.Rejected, `invalid edge: ${err.status?.message ?? err.message}`);
    throw new CLIError(
      CLIErrorCode.Rejected,
      `the hub answered ${err.code} ${err.reason}: ${err.status?.message ?? ''}`.trim(),
    );
  }
}
