// Dex for suites (hack/dex/dex.sh): start and stop named instances, read their settings, get ID tokens by the password
// grant, and take tokens apart and put them together again for the token matrix (e2e/oidc-tokens.test.ts). Every
// suite that needs Dex starts it here (e2e/oidc-tokens, e2e/workspace-share, e2e/oidc-login).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { run } from './cli.ts';

const dexScript = join(new URL('../../', import.meta.url).pathname, 'hack', 'dex', 'dex.sh');

export interface Dex {
  name: string;
  issuer: string;
  ca: Buffer;
  cliClientID: string;
  hubClientID: string;
  hubClientSecret: string;
  password: string;
}

/** How long `dex.sh up` may take: it picks a port under a lock shared by parallel runs, so it may wait on that first. */
export const DEX_UP_TIMEOUT_MS = 120_000;

/** `dex.sh up NAME` with `env` (e.g. KEDGE_DEX_ID_TOKEN_EXPIRY) and its settings. */
export async function dexUp(name: string, env: Record<string, string> = {}): Promise<Dex> {
  const up = await run('bash', [dexScript, 'up', name], { env, timeoutMs: DEX_UP_TIMEOUT_MS });
  if (up.code !== 0) throw new Error(`dex.sh up ${name}: ${up.stderr}`);
  const out = await run('bash', [dexScript, 'env', name]);
  const v: Record<string, string> = {};
  for (const line of out.stdout.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) v[m[1]] = m[2] ?? '';
  }
  return {
    name,
    issuer: v.KEDGE_DEX_ISSUER ?? '',
    ca: readFileSync(v.KEDGE_DEX_CA_FILE ?? ''),
    cliClientID: v.KEDGE_DEX_CLI_CLIENT_ID ?? '',
    hubClientID: v.KEDGE_DEX_HUB_CLIENT_ID ?? '',
    hubClientSecret: v.KEDGE_DEX_HUB_CLIENT_SECRET ?? '',
    password: v.KEDGE_DEX_PASSWORD ?? '',
  };
}

/** `dex.sh restart NAME`: same port and config, new signing keys (memory storage). */
export async function dexRestart(dex: Dex): Promise<void> {
  const res = await run('bash', [dexScript, 'restart', dex.name], { timeoutMs: 60_000 });
  if (res.code !== 0) throw new Error(`dex.sh restart ${dex.name}: ${res.stderr}`);
}

export async function dexDown(name: string): Promise<void> {
  await run('bash', [dexScript, 'down', name]);
}

function get(dex: Dex, path: string, init: Parameters<typeof fetch>[1] = {}): ReturnType<typeof fetch> {
  // Dex's CA is private: undici's fetch takes it through a dispatcher.
  return fetch(`${dex.issuer}${path}`, { ...init, dispatcher: new Agent({ connect: { ca: dex.ca } }) });
}

/** An ID token for `user` by the password grant, for the public CLI client or (with its secret) the hub's client. */
export async function dexIdToken(dex: Dex, user: string, client: 'cli' | 'hub' = 'cli'): Promise<string> {
  const basic = client === 'cli' ? `${dex.cliClientID}:` : `${dex.hubClientID}:${dex.hubClientSecret}`;
  const res = await get(dex, '/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(basic).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      scope: 'openid email groups profile',
      username: user,
      password: dex.password,
    }),
  });
  const body = (await res.json()) as { id_token?: string };
  if (!body.id_token) throw new Error(`no id_token from Dex ${dex.name} (HTTP ${res.status})`);
  return body.id_token;
}

/** Dex's published verification keys. */
export async function dexKeys(dex: Dex): Promise<{ kid: string; kty: string; alg?: string; n?: string; e?: string }[]> {
  const res = await get(dex, '/keys');
  return ((await res.json()) as { keys: { kid: string; kty: string }[] }).keys;
}

export interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The encoded parts as they came, to re-use byte for byte. */
  raw: [string, string, string];
}

export function jwtParts(token: string): JwtParts {
  const [h = '', p = '', s = ''] = token.split('.');
  const decode = (x: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(x, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(h), claims: decode(p), raw: [h, p, s] };
}

export function b64json(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}
