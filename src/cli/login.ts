// `kedge login`: exchanges a static token for a tenant kubeconfig at the hub and merges it into the user's
// kubeconfig as the "kedge" context.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { explainRequestError, hubDispatcher, type TLSFlags } from './http.ts';
import {
  defaultKubeconfigPath,
  mergeKubeconfig,
  parseKubeconfig,
  readKubeconfigFile,
  writeKubeconfigFile,
} from './kubeconfig.ts';
import { CLIError, CLIErrorCode } from './errors.ts';

export interface LoginFlags extends TLSFlags {
  hubUrl: string;
  token?: string;
  /** File holding the token (first line): keeps it out of `ps` and shell history. */
  tokenFile?: string;
  kubeconfig?: string;
}

/** How often a login that is still waiting for the hub says so. */
const PROGRESS_EVERY_MS = 5_000;

/** The static token from --token, --token-file or KEDGE_TOKEN (in that order). */
export function loginToken(
  flags: Pick<LoginFlags, 'token' | 'tokenFile'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flags.token) return flags.token;
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tokenFile, 'utf8');
    } catch (err) {
      throw new CLIError(
        CLIErrorCode.FlagsInvalid,
        `--token-file ${flags.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const token = text.split('\n')[0]?.trim() ?? '';
    if (token === '') throw new CLIError(CLIErrorCode.FlagsInvalid, `--token-file ${flags.tokenFile} is empty`);
    return token;
  }
  if (env.KEDGE_TOKEN) return env.KEDGE_TOKEN.trim();
  throw new CLIError(
    CLIErrorCode.FlagsInvalid,
    'a token is required: --token-file FILE, KEDGE_TOKEN, or --token (OIDC login is not available yet)',
  );
}

export async function login(
  flags: LoginFlags,
  out: (line: string) => void,
  progress: (line: string) => void = out,
): Promise<void> {
  const hubURL = normaliseHubURL(flags.hubUrl);
  const token = loginToken(flags);
  const dispatcher = hubDispatcher(flags);
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
    await dispatcher.close();
  }
  if (status === 401)
    throw new CLIError(CLIErrorCode.Unauthorized, 'the hub rejected the token (401): check the token you were given');
  if (status !== 200)
    throw new CLIError(CLIErrorCode.Rejected, `login failed with HTTP ${status}: ${statusMessage(text)}`);
  const body = JSON.parse(text) as { kubeconfig: string; workspace?: string; userId?: string };
  const incoming = parseKubeconfig(Buffer.from(body.kubeconfig, 'base64').toString('utf8'));
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
  out(`Logged in as ${body.userId ?? 'unknown'}; workspace ${body.workspace ?? '?'}.`);
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
