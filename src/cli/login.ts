// `kedge login`: exchanges a static token for a tenant kubeconfig at the hub and merges it into the user's
// kubeconfig as the "kedge" context.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { explainRequestError, hubDispatcher, type TLSFlags } from './http.ts';
import { defaultKubeconfigPath, mergeKubeconfig, parseKubeconfig, readKubeconfigFile, writeKubeconfigFile } from './kubeconfig.ts';

export interface LoginFlags extends TLSFlags {
  hubUrl: string;
  token?: string;
  kubeconfig?: string;
}

export async function login(flags: LoginFlags, out: (line: string) => void): Promise<void> {
  const hubURL = normaliseHubURL(flags.hubUrl);
  if (!flags.token) throw new Error('--token is required (OIDC login is not available yet)');
  const dispatcher = hubDispatcher(flags);
  let status: number;
  let text: string;
  try {
    const res = await request(`${hubURL}/auth/token-login`, {
      method: 'POST', dispatcher, headers: { authorization: `Bearer ${flags.token}` },
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw explainRequestError(err, hubURL);
  } finally {
    await dispatcher.close();
  }
  if (status === 401) throw new Error('the hub rejected the token (401): check --token');
  if (status !== 200) throw new Error(`login failed with HTTP ${status}: ${statusMessage(text)}`);
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
    throw new Error(`--hub-url ${JSON.stringify(raw)} is not a URL (expected e.g. https://127.0.0.1:8443)`);
  }
  if (u.protocol !== 'https:') throw new Error('--hub-url must use https://');
  return `${u.protocol}//${u.host}`;
}

function statusMessage(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
