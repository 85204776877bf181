// The default SSH login name from the user's identity (issue 9 item 6, as the Go Kedge did): when the kubeconfig
// context is an OIDC login (its user runs `kedge get-token --hub-url URL`), the local part of the email cached for
// that hub, made a valid login name. Anything missing or odd means "no identity": `kedge ssh` then uses its default.
import { readTokenCache, tokenCachePath } from './oidc/token-cache.ts';
import { defaultKubeconfigPath, readKubeconfigFile } from './kubeconfig.ts';
import { normaliseHubURL } from './login.ts';

/**
 * A login name from an email: the local part without a `+tag`, lower case, characters other than letters, digits,
 * `.`, `_` and `-` turned into `_`. Undefined unless the result is a name useradd accepts by default (starts with a
 * letter or `_`, at most 32 characters).
 */
export function loginNameFromEmail(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const name = (email.slice(0, at).split('+')[0] ?? '').toLowerCase().replace(/[^a-z0-9._-]/g, '_');
  return /^[a-z_][a-z0-9._-]{0,31}$/.test(name) ? name : undefined;
}

/** The hub URL of the context's exec plugin when it is `kedge get-token --hub-url URL`. */
export function oidcHubOfContext(kc: ReturnType<typeof readKubeconfigFile>, contextName: string): string | undefined {
  const ctx = kc.contexts.find((c) => c.name === contextName)?.context as { user?: string } | undefined;
  const user = kc.users.find((u) => u.name === ctx?.user)?.user as { exec?: { args?: unknown } } | undefined;
  const args = user?.exec?.args;
  if (!Array.isArray(args) || args[0] !== 'get-token') return undefined;
  const i = args.indexOf('--hub-url');
  const url: unknown = i >= 0 ? args[i + 1] : undefined;
  if (typeof url !== 'string') return undefined;
  try {
    return normaliseHubURL(url);
  } catch {
    return undefined;
  }
}

/** The login name from the cached OIDC identity of the context's hub, if there is one. */
export function identityLoginName(
  flags: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  try {
    const kc = readKubeconfigFile(flags.kubeconfig ?? defaultKubeconfigPath(env));
    const hub = oidcHubOfContext(kc, flags.context ?? 'kedge');
    const email = hub ? readTokenCache(tokenCachePath(hub, env))?.email : undefined;
    return email ? loginNameFromEmail(email) : undefined;
  } catch {
    return undefined;
  }
}
