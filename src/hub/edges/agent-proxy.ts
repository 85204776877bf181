// The agent-proxy's HTTP requests (docs/agent-protocol.md §2, §4): join with a join token, and the few reads and
// status writes an edge credential allows, each carried out by the hub's admin client on /clusters/<lc> after the
// credential and the object's ownership were checked. The tunnel upgrade is in tunnel-endpoint.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GROUP, LABEL_EDGE, Resource, VERSION } from '../../api/constants.ts';
import type { Edge, Placement } from '../../api/types.ts';
import { isApiError, isConflict, isNotFound } from '../../kube/api-error.ts';
import type { KubeClient, Query } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';
import { bearerToken } from '../auth/identity.ts';
import { labelValueForName } from '../../api/labels.ts';
import { BodyTooLargeError, readBody } from '../server/body.ts';
import { sendJSON, sendStatus } from '../server/status.ts';
import { outcomeOfStatus, type EdgeMetrics } from '../metrics.ts';
import { agentStatusPatch } from './agent-status.ts';
import { looksLikeJWT, type EdgeCredentials } from './credentials.ts';
import { checkJoinToken, type JoinSecret } from '../../api/join-token.ts';
import { EDGE_NAMESPACE, joinSecretName } from '../../api/names.ts';
import { edgesProxyURL, parseAgentRequest, splitURL, type AgentRequest } from './paths.ts';

const STATUS_BODY_LIMIT = 64 * 1024;
const PLACEMENT_BODY_LIMIT = 1024 * 1024;
const PASSED_LIST_PARAMS = [
  'watch',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'timeoutSeconds',
  'allowWatchBookmarks',
  'sendInitialEvents',
];

export type EdgeObject = Edge & KubeObject;

export interface AgentProxyDeps {
  admin: KubeClient;
  credentials: EdgeCredentials;
  hubURL: string;
  log: Logger;
  now?: () => Date;
  metrics?: EdgeMetrics;
}

export function edgeObjectPath(edge: string): string {
  return `/apis/${GROUP}/${VERSION}/${Resource.edges}/${edge}`;
}

/**
 * Authenticates an edge credential for (cluster, edge): the Edge when it is valid, else undefined (→ 401). The Edge is
 * read first (a 401 either way, so nothing leaks) because the credential must belong to this Edge's uid.
 */
export async function authenticateEdge(
  deps: AgentProxyDeps,
  token: string | undefined,
  cluster: string,
  edge: string,
): Promise<EdgeObject | undefined> {
  if (!token || !looksLikeJWT(token)) return undefined;
  let obj: EdgeObject;
  try {
    obj = await deps.admin.forCluster(cluster).get<EdgeObject>(edgeObjectPath(edge));
  } catch (err) {
    if (isApiError(err) && err.code >= 400 && err.code < 500) {
      deps.credentials.invalidate(cluster, edge);
      return undefined;
    }
    throw err;
  }
  if (obj.metadata.deletionTimestamp !== undefined) return undefined;
  const ok = await deps.credentials
    .verify(token, cluster, edge, obj.metadata.uid ?? '')
    .catch(rethrowUnlessClientError);
  return ok ? obj : undefined;
}

/** A 4xx from kcp while checking a credential (unknown cluster, …) means "not authenticated", not a hub failure. */
function rethrowUnlessClientError(err: unknown): false {
  if (isApiError(err) && err.code >= 400 && err.code < 500) return false;
  throw err;
}

export function agentProxyHandler(deps: AgentProxyDeps) {
  const now = deps.now ?? (() => new Date());
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.once('close', () => deps.metrics?.agentProxy(outcomeOfStatus(res.statusCode)));
    const { path, query } = splitURL(req.url ?? '/');
    const parsed = parseAgentRequest(req.method ?? 'GET', path);
    if (!parsed.ok) {
      return sendStatus(
        res,
        parsed.code,
        parsed.code === 403 ? 'Forbidden' : parsed.reason,
        parsed.code === 405 ? { headers: { Allow: 'POST' } } : {},
      );
    }
    const log = deps.log.child({ cluster: parsed.cluster, edge: parsed.edge });
    try {
      if (parsed.op === 'join') return await join(deps, req, res, parsed, log, now());
      if (parsed.op === 'tunnel') return sendStatus(res, 400, 'the tunnel needs a WebSocket upgrade');
      const edge = await authenticateEdge(deps, bearerToken(req.headers.authorization), parsed.cluster, parsed.edge);
      if (!edge) return sendStatus(res, 401, 'Unauthorized');
      await serve(deps, req, res, parsed, edge, new URLSearchParams(query), now());
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendStatus(res, 413, 'request body too large');
      if (isApiError(err) && (err.code === 409 || err.code === 422))
        return sendStatus(res, err.code, err.status?.message ?? err.reason);
      if (isApiError(err) && err.code === 404) return sendStatus(res, 404, 'not found');
      log.error({ err, op: parsed.op }, 'agent-proxy request failed');
      sendStatus(res, isApiError(err) ? 502 : 503, 'the control plane could not serve this request');
    }
  };
}

async function serve(
  deps: AgentProxyDeps,
  req: IncomingMessage,
  res: ServerResponse,
  r: AgentRequest,
  edge: EdgeObject,
  params: URLSearchParams,
  now: Date,
): Promise<void> {
  const c = deps.admin.forCluster(r.cluster);
  switch (r.op) {
    case 'getEdge':
      return sendJSON(res, 200, edge);
    case 'patchEdgeStatus': {
      const body = await jsonBody(req, res, STATUS_BODY_LIMIT);
      if (body === undefined) return;
      const patch = agentStatusPatch(body, edge, now);
      if (patch === undefined)
        return sendStatus(res, 400, 'expected {"status": {…}} with string facts and a list of host keys');
      return sendJSON(res, 200, await c.patch(`${edgeObjectPath(r.edge)}/status`, patch, 'merge'));
    }
    case 'placements':
      return listPlacements(c, req, res, r.edge, params);
    case 'putPlacementStatus': {
      const path = `/apis/${GROUP}/${VERSION}/namespaces/${r.namespace}/${Resource.placements}/${r.name}`;
      const stored = await getOwnedPlacement(c, path, r.edge);
      if (!stored) return sendStatus(res, 403, 'Forbidden');
      const body = await jsonBody(req, res, PLACEMENT_BODY_LIMIT);
      if (body === undefined) return;
      const meta = (body.metadata ?? {}) as Record<string, unknown>;
      if (
        (meta.name !== undefined && meta.name !== r.name) ||
        (meta.namespace !== undefined && meta.namespace !== r.namespace)
      ) {
        return sendStatus(res, 400, 'metadata.name and metadata.namespace must match the path');
      }
      if (typeof body.status !== 'object' || body.status === null || Array.isArray(body.status))
        return sendStatus(res, 400, 'expected a status object');
      const rv = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : stored.metadata.resourceVersion;
      const updated = { ...stored, metadata: { ...stored.metadata, resourceVersion: rv }, status: body.status };
      return sendJSON(res, 200, await c.updateStatus(path, updated));
    }
    case 'getVirtualWorkload': {
      const refs = await c.list<Placement & KubeObject>(
        `/apis/${GROUP}/${VERSION}/namespaces/${r.namespace}/${Resource.placements}`,
        {
          labelSelector: `${LABEL_EDGE}=${labelValueForName(r.edge)}`,
        },
      );
      if (!refs.items.some((p) => p.spec?.edgeName === r.edge && p.spec?.workloadRef?.name === r.name))
        return sendStatus(res, 403, 'Forbidden');
      return sendJSON(
        res,
        200,
        await c.get(`/apis/${GROUP}/${VERSION}/namespaces/${r.namespace}/${Resource.virtualworkloads}/${r.name}`),
      );
    }
    default:
      return sendStatus(res, 403, 'Forbidden');
  }
}

async function getOwnedPlacement(
  c: KubeClient,
  path: string,
  edge: string,
): Promise<(Placement & KubeObject) | undefined> {
  try {
    const p = await c.get<Placement & KubeObject>(path);
    return p.spec?.edgeName === edge ? p : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function listPlacements(
  c: KubeClient,
  req: IncomingMessage,
  res: ServerResponse,
  edge: string,
  params: URLSearchParams,
): Promise<void> {
  const query: Query = {};
  for (const k of PASSED_LIST_PARAMS) {
    const v = params.get(k);
    if (v !== null) query[k] = v;
  }
  query.labelSelector = `${LABEL_EDGE}=${labelValueForName(edge)}`;
  const watch = query.watch === 'true' || query.watch === '1';
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const up = await c.requestRaw('GET', `/apis/${GROUP}/${VERSION}/${Resource.placements}`, {
    query,
    signal: abort.signal,
    streaming: watch,
  });
  res.writeHead(200, { 'Content-Type': String(up.headers['content-type'] ?? 'application/json') });
  res.flushHeaders();
  up.body.on('error', () => res.destroy());
  up.body.pipe(res);
  if (!watch) return;
  req.on('close', () => abort.abort());
}

async function jsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Record<string, unknown> | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/json' && type !== 'application/merge-patch+json') {
    sendStatus(res, 415, 'use Content-Type application/merge-patch+json or application/json');
    return undefined;
  }
  const raw = await readBody(req, limit);
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  sendStatus(res, 400, 'the body is not a JSON object');
  return undefined;
}

async function join(
  deps: AgentProxyDeps,
  req: IncomingMessage,
  res: ServerResponse,
  r: AgentRequest,
  log: Logger,
  now: Date,
): Promise<void> {
  const token = bearerToken(req.headers.authorization);
  if (!token || token.length > 1024) return sendStatus(res, 401, 'Unauthorized');
  const c = deps.admin.forCluster(r.cluster);
  const secretPath = `/api/v1/namespaces/${EDGE_NAMESPACE}/secrets/${joinSecretName(r.edge)}`;
  let secret: JoinSecret & KubeObject;
  let edge: EdgeObject;
  try {
    secret = await c.get<JoinSecret & KubeObject>(secretPath);
    edge = await c.get<EdgeObject>(edgeObjectPath(r.edge));
  } catch (err) {
    if (isApiError(err) && err.code >= 400 && err.code < 500) {
      log.info('join refused: no join token or no such edge');
      return sendStatus(res, 401, 'Unauthorized');
    }
    throw err;
  }
  const check = checkJoinToken(secret, token, now);
  const owned = secret.metadata.ownerReferences?.some((o) => o.uid === edge.metadata.uid) ?? false;
  if (!check.ok || !owned || edge.metadata.deletionTimestamp !== undefined) {
    log.info({ why: check.ok ? 'stale owner' : check.why }, 'join refused');
    return sendStatus(res, 401, 'Unauthorized');
  }
  try {
    await c.delete(secretPath, {
      preconditions: { uid: secret.metadata.uid ?? '', resourceVersion: secret.metadata.resourceVersion ?? '' },
    });
  } catch (err) {
    if (isConflict(err) || isNotFound(err)) {
      log.info('join refused: join token already used');
      return sendStatus(res, 401, 'Unauthorized');
    }
    throw err;
  }
  const credential = await deps.credentials.ensure(r.cluster, edge);
  const url = edgesProxyURL(deps.hubURL, r.cluster, r.edge, edge.spec?.type);
  await c
    .patch(`${edgeObjectPath(r.edge)}/status`, { status: { URL: url } }, 'merge')
    .catch((err: unknown) => log.warn({ err }, 'could not set Edge status.URL'));
  log.info('edge joined');
  sendJSON(res, 200, {
    token: credential,
    cluster: r.cluster,
    edge: r.edge,
    hubURL: deps.hubURL,
    type: edge.spec?.type,
  });
}
