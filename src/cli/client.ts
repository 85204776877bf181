// A KubeClient for the user's tenant workspace from their kubeconfig's "kedge" context (written by `kedge login`),
// plus what the edge commands need from it: the hub URL, the workspace path, the hub CA and the bearer token.
// Reading goes through src/kube/kubeconfig.ts (client-node's KubeConfig): merged $KUBECONFIG lists, token files and
// exec credential plugins (`kedge get-token`, kubelogin, …) with their ExecCredential cache.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isKedgeError } from '../api/errors.ts';
import { KubeClient } from '../kube/client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { KubeconfigErrorCode } from '../kube/kubeconfig-errors.ts';
import { kubeClientOptionsFromKubeConfig } from '../kube/kubeconfig-options.ts';
import { describeSource, kubeconfigPaths, readKubeConfig } from '../kube/kubeconfig.ts';
import { defaultKubeconfigPath } from './kubeconfig.ts';

export const DEFAULT_CONTEXT = 'kedge';

export interface ClientFlags {
  kubeconfig?: string;
  context?: string;
}

export interface UserClient {
  /** Client on `<hub>/clusters/<workspace>`. */
  client: KubeClient;
  options: KubeClientOptions;
  hubURL: string;
  workspace: string;
  /** The bearer token the client sends now (from the kubeconfig, its token file or its exec plugin). */
  token: string | undefined;
  /** The context user's exec plugin (e.g. `kedge get-token`), as in the kubeconfig: copied, never its token. */
  exec: Record<string, unknown> | undefined;
  kubeconfigPath: string;
  context: string;
}

export async function userClient(flags: ClientFlags, env = process.env): Promise<UserClient> {
  // kubectl's order: --kubeconfig, else every file in $KUBECONFIG (merged), else ~/.kube/config.
  const paths =
    flags.kubeconfig !== undefined
      ? [flags.kubeconfig]
      : env.KUBECONFIG
        ? kubeconfigPaths(env.KUBECONFIG)
        : [join(homedir(), '.kube', 'config')];
  const path = flags.kubeconfig ?? defaultKubeconfigPath(env);
  const context = flags.context ?? DEFAULT_CONTEXT;
  let options: KubeClientOptions;
  let client: KubeClient;
  let token: string | undefined;
  let exec: Record<string, unknown> | undefined;
  try {
    const source = flags.kubeconfig !== undefined ? { path: flags.kubeconfig } : { paths };
    const kc = readKubeConfig(source);
    options = { ...kubeClientOptionsFromKubeConfig(kc, context, describeSource(source)), userAgent: 'kedge-cli' };
    const user = kc.getUser(kc.getContextObject(context)?.user ?? '');
    exec = (user?.exec as Record<string, unknown> | undefined) ?? undefined;
    client = new KubeClient(options);
    // Runs an exec plugin now, so a failing one is reported as such rather than as the first request's error.
    token = bearerToken(await client.authorizationHeader());
  } catch (err) {
    if (isKedgeError(err, KubeconfigErrorCode.Invalid))
      throw new CLIError(
        CLIErrorCode.NotLoggedIn,
        `${err.message}: run 'kedge login --hub-url <url> --token-file <file>' first, or pass --kubeconfig/--context`,
      );
    if (isKedgeError(err, KubeconfigErrorCode.Credential))
      throw new CLIError(CLIErrorCode.NotLoggedIn, `${err.message}: run 'kedge login' again`);
    throw err;
  }
  const server = new URL(options.server);
  const m = /^\/clusters\/([^/]+)\/?$/.exec(server.pathname);
  if (!m) {
    await client.close();
    throw new CLIError(
      CLIErrorCode.NotLoggedIn,
      `context "${context}" does not point at a Kedge workspace (${options.server}): run 'kedge login' again`,
    );
  }
  return {
    client,
    options,
    hubURL: server.origin,
    workspace: m[1] ?? '',
    token,
    exec,
    kubeconfigPath: path,
    context,
  };
}

function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}
