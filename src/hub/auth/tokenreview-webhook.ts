// The TokenReview webhook kcp calls to authenticate user tokens (kcp --authentication-token-webhook-config-file).
// Only kcp may call it: it presents a secret the hub wrote into the webhook kubeconfig. Users are mapped to
// `kedge:*` names and groups — never `system:*` — so a token can never claim kcp-internal identities.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { bearerToken, type Authenticator } from './identity.ts';
import { readBody } from '../server/body.ts';
import { sendJSON, sendStatus } from '../server/status.ts';

export function tokenReviewHandler(webhookToken: string, authn: Authenticator, log: Logger) {
  const expected = digest(webhookToken);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return sendStatus(res, 405, 'method not allowed');
    const presented = bearerToken(req.headers.authorization);
    if (!presented || !timingSafeEqual(digest(presented), expected)) return sendStatus(res, 401, 'Unauthorized');
    let review: { apiVersion?: string; spec?: { token?: unknown; audiences?: unknown } };
    try {
      review = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
    } catch {
      return sendStatus(res, 400, 'expected a TokenReview JSON body');
    }
    const token = review.spec?.token;
    const apiVersion = review.apiVersion ?? 'authentication.k8s.io/v1';
    const user = typeof token === 'string' && token ? await authn.authenticate(token) : undefined;
    log.debug({ authenticated: !!user, user: user?.username }, 'token review');
    sendJSON(res, 200, {
      apiVersion,
      kind: 'TokenReview',
      status: user
        ? { authenticated: true, user: { username: user.username, uid: user.uid, groups: user.groups } }
        : { authenticated: false },
    });
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
