// The users' edges-proxy `…/services/edges-proxy/clusters/<lc>/apis/kedge.faros.sh/v1alpha1/edges/<edge>/k8s/…`
// (docs/kcp.md, docs/agent-protocol.md): authenticate the user (401), SubjectAccessReview `proxy` on that edge in <lc> (403), the Edge must
// exist (404) and be connected (502), then HTTP over the session's pooled tunnel streams (an upgrade gets its own).
// The caller's credentials never cross; for kubectl the identity the hub authenticated does (user, groups, the
// workspace's tenant and the caller's role there), and the agent impersonates it on the edge.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { TunnelSession } from '../../tunnel/index.ts';
import { bearerToken, type Authenticator, type UserInfo } from '../auth/identity.ts';
import type { EdgeMetrics } from '../metrics.ts';
import { outcomeOfStatus } from '../metrics.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus, writeSocketStatus } from '../server/status.ts';
import type { EdgeIdentity } from '../../api/edge-identity.ts';
import type { EdgeAccessReviewer } from './access-review.ts';
import type { EdgeTenants } from './edge-tenant.ts';
import { edgeObjectPath, type EdgeObject } from './agent-proxy.ts';
import { parseEdgesProxyRequest, splitURL, type EdgesProxyRequest } from './paths.ts';
import { forwardRequest, forwardUpgrade } from './tunnel-http.ts';
import type { TunnelEndpoint } from './tunnel-endpoint.ts';

export interface EdgesProxyDeps {
  admin: KubeClient;
  authn: Authenticator;
  reviewer: EdgeAccessReviewer;
  /** Logical cluster → tenant, for the identity sent with kubectl requests. */
  tenants: EdgeTenants;
  tunnels: TunnelEndpoint;
  /** The hub's own origin (`https://host:port`): the only Origin a browser upgrade may carry. */
  hubOrigin: string;
  log: Logger;
  metrics?: EdgeMetrics;
}

export type Resolved =
  | {
      ok: true;
      request: EdgesProxyRequest;
      user: UserInfo;
      session: TunnelSession;
      edgePath: string;
      /** For …/k8s: who the agent acts as on the edge. */
      identity?: EdgeIdentity;
    }
  | { ok: false; code: number; message: string; kedgeCode?: HubErrorCode };

/**
 * Everything before the first byte goes to the edge, shared by plain requests, upgrades and the SSH handler:
 * path → user → SAR → Edge → session. `rest` is the edge-side path plus the caller's query.
 */
export async function resolveEdgeRequest(deps: EdgesProxyDeps, req: IncomingMessage): Promise<Resolved> {
  const { path, query } = splitURL(req.url ?? '/');
  const parsed = parseEdgesProxyRequest(path);
  if (!parsed.ok) return { ok: false, code: parsed.code, message: parsed.reason };
  const token = bearerToken(req.headers.authorization);
  const user = token ? await deps.authn.authenticate(token) : undefined;
  if (!user) return { ok: false, code: 401, message: 'Unauthorized' };
  let decision: Awaited<ReturnType<EdgeAccessReviewer['review']>>;
  try {
    decision = await deps.reviewer.review(user, parsed.cluster, parsed.edge, parsed.sub);
  } catch (err) {
    deps.log.warn({ err, cluster: parsed.cluster }, 'SubjectAccessReview failed');
    return { ok: false, code: 503, message: 'the control plane could not check access' };
  }
  if (!decision.allowed) {
    const what = parsed.sub === 'ssh' ? 'ssh to' : 'proxy to';
    return { ok: false, code: 403, message: `${user.username} may not ${what} edge ${parsed.edge}` };
  }
  const session = deps.tunnels.session(parsed.cluster, parsed.edge);
  let type = session ? deps.tunnels.info(session)?.type : undefined;
  if (!session) {
    try {
      const edge = await deps.admin.forCluster(parsed.cluster).get<EdgeObject>(edgeObjectPath(parsed.edge));
      type = edge.spec?.type;
    } catch (err) {
      if (isNotFound(err)) return { ok: false, code: 404, message: `edge ${parsed.edge} not found` };
      return { ok: false, code: 503, message: 'the control plane is unreachable' };
    }
  }
  if (parsed.sub === 'k8s' && type === 'server')
    return { ok: false, code: 404, message: `edge ${parsed.edge} is a server edge: use ssh` };
  if (parsed.sub === 'ssh' && type !== undefined && type !== 'server')
    return { ok: false, code: 404, message: `edge ${parsed.edge} is a kubernetes edge: use …/k8s` };
  if (!session)
    return {
      ok: false,
      code: 502,
      message: `edge ${parsed.edge} is not connected`,
      kedgeCode: HubErrorCode.EdgeNotConnected,
    };
  const edgePath = parsed.rest + (query ? `?${query}` : '');
  if (parsed.sub === 'ssh') return { ok: true, request: parsed, user, session, edgePath };
  let tenant: string | undefined;
  try {
    tenant = await deps.tenants.tenantOf(parsed.cluster);
  } catch (err) {
    deps.log.warn({ err, cluster: parsed.cluster }, 'reading the logical cluster failed');
    return { ok: false, code: 503, message: 'the control plane is unreachable' };
  }
  if (tenant === undefined)
    return { ok: false, code: 403, message: `edge ${parsed.edge} is not in a tenant workspace` };
  const identity: EdgeIdentity = { user: user.username, uid: user.uid, groups: user.groups, tenant };
  if (decision.role !== undefined) identity.role = decision.role;
  return { ok: true, request: parsed, user, session, edgePath, identity };
}

export function edgesProxyHandlers(
  deps: EdgesProxyDeps,
  ssh?: {
    request?: (r: Resolved & { ok: true }, req: IncomingMessage, res: ServerResponse) => void;
    upgrade?: (r: Resolved & { ok: true }, req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  },
) {
  const log = deps.log;
  return {
    async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const r = await resolveEdgeRequest(deps, req);
      deps.metrics?.edgesProxy(r.ok ? 'forwarded' : outcomeOfStatus(r.code));
      if (!r.ok) return sendStatus(res, r.code, r.message, r.kedgeCode ? { kedgeCode: r.kedgeCode } : {});
      if (r.request.sub === 'ssh')
        return ssh?.request ? ssh.request(r, req, res) : sendStatus(res, 404, 'ssh is not served by this hub');
      forwardRequest(
        r.session,
        req,
        res,
        r.edgePath,
        log.child({ cluster: r.request.cluster, edge: r.request.edge }),
        r.identity,
      );
    },
    async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
      socket.on('error', () => {});
      const origin = req.headers.origin;
      const r: Resolved =
        origin !== undefined && origin !== deps.hubOrigin
          ? { ok: false, code: 403, message: 'cross-origin requests are not allowed' }
          : await resolveEdgeRequest(deps, req);
      deps.metrics?.edgesProxy(r.ok ? 'forwarded' : outcomeOfStatus(r.code));
      if (!r.ok) return writeSocketStatus(socket, r.code, r.message, r.kedgeCode);
      if (r.request.sub === 'ssh')
        return ssh?.upgrade
          ? ssh.upgrade(r, req, socket, head)
          : writeSocketStatus(socket, 404, 'ssh is not served by this hub');
      forwardUpgrade(
        r.session,
        req,
        socket,
        head,
        r.edgePath,
        log.child({ cluster: r.request.cluster, edge: r.request.edge }),
        r.identity,
      );
    },
  };
}
