// POST /auth/token-login: a static-token user gets (and on first use, gets created) their tenant workspace and a
// kubeconfig pointing at it through the hub. The response keeps the Go Kedge LoginResponse keys. The request needs no
// body; one over TOKEN_LOGIN_BODY_LIMIT is refused with 413 before anything is created.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { bearerToken, type Authenticator } from './identity.ts';
import { BodyTooLargeError, readBody } from '../server/body.ts';
import { sendJSON, sendStatus } from '../server/status.ts';
import type { Tenant } from '../tenancy/tenants.ts';
import type { UserInfo } from './identity.ts';
import { HubErrorCode } from '../errors.ts';

/** The endpoint reads no body; this bound only keeps a client from streaming an unbounded one into the hub. */
export const TOKEN_LOGIN_BODY_LIMIT = 64 * 1024;

export interface LoginResponse {
  /** base64 of the kubeconfig YAML (Go Kedge sent []byte). */
  kubeconfig: string;
  expiresAt: number;
  email: string;
  userId: string;
  workspace: string;
}

export interface KubeconfigTarget {
  hubURL: string;
  /** PEM of the CA that signed the hub's serving certificate, when clients need it. */
  caPEM?: string;
  insecureSkipTLSVerify?: boolean;
}

export function tenantKubeconfig(target: KubeconfigTarget, workspacePath: string, token: string): string {
  const cluster: Record<string, unknown> = { server: `${target.hubURL}/clusters/${workspacePath}` };
  if (target.caPEM) cluster['certificate-authority-data'] = Buffer.from(target.caPEM).toString('base64');
  if (target.insecureSkipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kedge', cluster }],
    users: [{ name: 'kedge', user: { token } }],
    contexts: [{ name: 'kedge', context: { cluster: 'kedge', user: 'kedge' } }],
    'current-context': 'kedge',
  });
}

export function tokenLoginHandler(
  authn: Authenticator,
  ensureTenant: (user: UserInfo) => Promise<Tenant>,
  target: KubeconfigTarget,
  log: Logger,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST')
      return sendStatus(res, 405, 'use POST /auth/token-login with Authorization: Bearer <token>', {
        headers: { Allow: 'POST' },
      });
    try {
      await readBody(req, TOKEN_LOGIN_BODY_LIMIT); // read (and dropped) before the login does anything
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        return sendStatus(
          res,
          413,
          `the token-login body exceeds the limit of ${TOKEN_LOGIN_BODY_LIMIT} bytes (it needs none)`,
        );
      return sendStatus(res, 400, 'the request body could not be read'); // the client went away mid-body
    }
    const token = bearerToken(req.headers.authorization);
    const user = token ? await authn.authenticate(token) : undefined;
    if (!token || !user) return sendStatus(res, 401, 'Unauthorized');
    let tenant: Tenant;
    try {
      tenant = await ensureTenant(user);
    } catch (err) {
      log.error({ err, user: user.username }, 'tenant provisioning failed');
      return sendStatus(res, 503, 'the tenant workspace is not ready yet; try again shortly', {
        kedgeCode: HubErrorCode.NotReady,
      });
    }
    log.info({ user: user.username, workspace: tenant.workspacePath }, 'token login');
    const body: LoginResponse = {
      kubeconfig: Buffer.from(tenantKubeconfig(target, tenant.workspacePath, token)).toString('base64'),
      expiresAt: 0,
      email: '',
      userId: user.username,
      workspace: tenant.workspacePath,
    };
    sendJSON(res, 200, body);
  };
}
