// `kedge login`: logs in at the hub and merges a tenant kubeconfig into the user's kubeconfig as the "kedge" context.
// With a static token (flag, file or KEDGE_TOKEN) the token goes into the kubeconfig as before. Without one, the hub's
// discovery document (GET /auth/config) says whether it takes OIDC; then the user logs in at the issuer
// (src/cli/oidc/login-oidc.ts), the ID token logs in at the hub the same way, and the kubeconfig's user is the exec
// plugin `kedge get-token`, which keeps the tokens in its own cache — none in the kubeconfig.
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'undici';
import { LoginMethod } from '../api/login-config.ts';
import { readSecretLine } from '../util/secret-file.ts';
import { explainRequestError, hubDispatcher, type TLSFlags } from './http.ts';
import {
  defaultKubeconfigPath,
  mergeKubeconfig,
  parseKubeconfig,
  readKubeconfigFile,
  withExecUsers,
  writeKubeconfigFile,
  type Kubeconfig,
} from './kubeconfig.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import type { OidcFlags } from './oidc/login-oidc.ts';

export interface LoginFlags extends TLSFlags, OidcFlags {
  hubUrl: string;
  token?: string;
  /** File holding the token (first line): keeps it out of `ps` and shell history. */
  tokenFile?: string;
  kubeconfig?: string;
}

const STATIC_401 = 'the hub rejected the token (401): check the token you were given';
const OIDC_401 =
  "the hub rejected the ID token from its issuer (401): your account may lack a verified email, or the hub's --oidc-client-id or --oidc-issuer-url do not match the issuer";

/** How often a login that is still waiting for the hub says so. */
const PROGRESS_EVERY_MS = 5_000;

/** The static token from --token, --token-file or KEDGE_TOKEN (in that order). */
export function loginToken(
  flags: Pick<LoginFlags, 'token' | 'tokenFile'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flags.token) return flags.token;
  if (flags.tokenFile !== undefined) {
    try {
      return readSecretLine(flags.tokenFile, '--token-file', (f) => readFileSync(f, 'utf8'));
    } catch (err) {
      throw new CLIError(CLIErrorCode.FlagsInvalid, (err as Error).message, { cause: err });
    }
  }
  if (env.KEDGE_TOKEN) return env.KEDGE_TOKEN.trim();
  throw new CLIError(
    CLIErrorCode.FlagsInvalid,
    'a token is required: --token-file FILE, KEDGE_TOKEN, or --token (this hub offers no OIDC login)',
  );
}

/** Whether the user gave a static token, which selects the token login whatever else the hub offers. */
export function hasStaticToken(
  flags: Pick<LoginFlags, 'token' | 'tokenFile'>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return !!flags.token || flags.tokenFile !== undefined || !!env.KEDGE_TOKEN;
}

export async function login(
  flags: LoginFlags,
  out: (line: string) => void,
  progress: (line: string) => void = out,
): Promise<void> {
  const hubURL = normaliseHubURL(flags.hubUrl);
  const dispatcher = hubDispatcher(flags);
  try {
    if (hasStaticToken(flags)) {
      if (flags.device || flags.browser === false || flags.oidcCaFile !== undefined)
        throw new CLIError(
          CLIErrorCode.FlagsInvalid,
          '--device, --no-browser and --oidc-ca-file are for OIDC login: drop them, or the token',
        );
      const token = loginToken(flags);
      const { kubeconfig, userId, workspace } = await tokenLogin(hubURL, token, dispatcher, progress, STATIC_401);
      writeLogin(flags, kubeconfig, userId, workspace, out);
      return;
    }
    const { fetchLoginConfig } = await import('./oidc/discovery.ts');
    const cfg = await fetchLoginConfig(hubURL, dispatcher);
    if (!cfg.methods.includes(LoginMethod.Oidc) || !cfg.oidc) loginToken(flags); // throws: a token is required
    const { oidcLogin } = await import('./oidc/login-oidc.ts');
    const { tokenCachePath, withCacheLock, writeTokenCache } = await import('./oidc/token-cache.ts');
    const cached = await oidcLogin(hubURL, cfg.oidc!, flags, progress);
    const { kubeconfig, userId, workspace } = await tokenLogin(hubURL, cached.idToken, dispatcher, progress, OIDC_401);
    const path = tokenCachePath(hubURL);
    await withCacheLock(path, async () => writeTokenCache(path, cached));
    writeLogin(flags, withExecUsers(kubeconfig, hubURL), userId, workspace, out);
  } finally {
    await dispatcher.close();
  }
}

/** POST /auth/token-login with the credential (static token or ID token): the tenant kubeconfig, provisioned. */
async function tokenLogin(
  hubURL: string,
  token: string,
  dispatcher: Agent,
  progress: (line: string) => void,
  refused: string,
): Promise<{ kubeconfig: Kubeconfig; userId: string; workspace: string }> {
  let status: number;
  let text: string;
  // The first login provisions the tenant workspace inside this request (≈ 10–15 s on kcp): say so while waiting.
  progress(`Logging in to ${hubURL} (a first login creates your workspace; this can take 15 s)…`);
  const started = Date.now();
  const ticker = setInterval(
    () =>
      progress(
        `  still waiting for the hub to set up your workspace (${Math.round((Date.now() - started) / 1000)} s)…`,
      ),
    PROGRESS_EVERY_MS,
  );
  try {
    const res = await request(`${hubURL}/auth/token-login`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${token}` },
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw explainRequestError(err, hubURL);
  } finally {
    clearInterval(ticker);
  }
  if (status === 401) throw new CLIError(CLIErrorCode.Unauthorized, refused);
  if (status !== 200)
    throw new CLIError(CLIErrorCode.Rejected, `login failed with HTTP ${status}: ${statusMessage(text)}`);
  const body = JSON.parse(text) as { kubeconfig: string; workspace?: string; userId?: string };
  return {
    kubeconfig: parseKubeconfig(Buffer.from(body.kubeconfig, 'base64').toString('utf8')),
    userId: body.userId ?? 'unknown',
    workspace: body.workspace ?? '?',
  };
}

function writeLogin(
  flags: LoginFlags,
  incoming: Kubeconfig,
  userId: string,
  workspace: string,
  out: (line: string) => void,
): void {
  for (const c of incoming.clusters) {
    const cluster = c.cluster as Record<string, unknown>;
    if (flags.insecureSkipTlsVerify) {
      delete cluster['certificate-authority-data'];
      cluster['insecure-skip-tls-verify'] = true;
    } else if (flags.certificateAuthority) {
      cluster['certificate-authority-data'] = readFileSync(flags.certificateAuthority).toString('base64');
    }
  }
  const path = flags.kubeconfig ?? defaultKubeconfigPath();
  writeKubeconfigFile(path, mergeKubeconfig(readKubeconfigFile(path), incoming, true));
  out(`Logged in as ${userId}; workspace ${workspace}.`);
  out(`Context "kedge" written to ${path} and selected. Try: kubectl get virtualworkloads`);
}

export function normaliseHubURL(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CLIError(
      CLIErrorCode.FlagsInvalid,
      `--hub-url ${JSON.stringify(raw)} is not a URL (expected e.g. https://127.0.0.1:8443)`,
    );
  }
  if (u.protocol !== 'https:') throw new CLIError(CLIErrorCode.FlagsInvalid, '--hub-url must use https://');
  return `${u.protocol}//${u.host}`;
}

function statusMessage(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
