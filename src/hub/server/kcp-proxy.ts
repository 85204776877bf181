// /clusters/<workspace>/… → kcp, under the caller's OWN identity: the user's bearer token is forwarded and kcp
// authenticates it through the hub's TokenReview webhook, so kcp RBAC enforces tenancy. The hub first checks the
// token itself (unknown → 401, never forwarded) and that the path names a workspace under root:kedge:tenants (else
// 403): not only the caller's own, since a workspace owner may share theirs (`kedge workspace share`, plain RBAC
// there). Inside that tree kcp alone decides, as for the owner: a user with no binding in a workspace gets kcp's 403.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { bearerToken, type Authenticator } from '../auth/identity.ts';
import { endToEndHeaders, isHopHeader } from '../../kube/http-headers.ts';
import { WORKSPACE_TENANTS } from '../../api/constants.ts';
import { isUnderWorkspace, parseClusterPath } from './paths.ts';
import { discardBody } from './body.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus } from './status.ts';

export interface KcpProxyOptions {
  kcpURL: string;
  /** CA of kcp's serving certificate; system roots when undefined. */
  kcpCA: string | Buffer | undefined;
}

export function kcpProxyHandler(opts: KcpProxyOptions, authn: Authenticator, log: Logger) {
  const target = new URL(opts.kcpURL);
  const agent = new Agent({ keepAlive: true, maxSockets: 256, ...(opts.kcpCA ? { ca: opts.kcpCA } : {}) });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawURL = req.url ?? '/';
    const q = rawURL.indexOf('?');
    const rawPath = q >= 0 ? rawURL.slice(0, q) : rawURL;
    const token = bearerToken(req.headers.authorization);
    const user = token ? await authn.authenticate(token) : undefined;
    if (!user) return sendStatus(res, 401, 'Unauthorized');
    const parsed = parseClusterPath(rawPath);
    if (!parsed.ok) return sendStatus(res, 400, `malformed path: ${parsed.reason}`);
    if (!isUnderWorkspace(parsed.workspace, WORKSPACE_TENANTS)) {
      return sendStatus(res, 403, `workspace ${parsed.workspace} is not accessible to ${user.username}`);
    }
    const upstream = httpsRequest({
      agent,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: rawURL,
      headers: forwardHeaders(req.headers),
    });
    // kcp may answer before it has read the whole body (413 for an object over its limit, 401, 403…) and then
    // close the connection. That answer is relayed and the upload stopped: once it came, later write errors on the
    // upstream connection are expected and must not turn it into a 502.
    let answered = false;
    let answerComplete = false;
    upstream.on('response', (up) => {
      answered = true;
      if (!req.complete) {
        req.unpipe(upstream);
        res.once('finish', () => discardBody(req));
      }
      res.writeHead(up.statusCode ?? 502, endToEndHeaders(up.headers));
      res.flushHeaders(); // watches: let the client see the headers before the first event
      up.once('end', () => {
        answerComplete = true;
      });
      up.on('error', () => res.destroy());
      up.pipe(res);
      res.on('close', () => up.destroy());
    });
    upstream.on('error', (err) => {
      if (answered) {
        // The upload broke after kcp answered: a complete answer stands; a partial one cannot be repaired.
        log.debug({ err, path: rawPath }, 'kcp closed the connection after answering');
        if (!answerComplete) res.destroy();
        return;
      }
      log.warn({ err, path: rawPath }, 'kcp proxy error');
      sendStatus(res, 502, 'the control plane is unreachable', { kedgeCode: HubErrorCode.ControlPlaneUnavailable });
    });
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
}

/** Copies end-to-end headers (no HTTP/2 pseudo-headers), dropping any identity a client could try to assert to kcp. */
export function forwardHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || isHopHeader(k) || k.startsWith('impersonate-') || k.startsWith('x-remote-')) continue;
    out[k] = v;
  }
  return out;
}
