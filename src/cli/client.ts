// A KubeClient for the user's tenant workspace from their kubeconfig's "kedge" context (written by `kedge login`),
// plus what the edge commands need from it: the hub URL, the workspace path, the hub CA and the bearer token.
// An `exec` credential plugin (`kedge get-token`) is run once to get the token.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { KubeClient } from '../kube/client.ts';
import { loadKubeconfig } from '../kube/kubeconfig.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { defaultKubeconfigPath, parseKubeconfig } from './kubeconfig.ts';

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
  token: string | undefined;
  kubeconfigPath: string;
  context: string;
}

export class CLIError extends Error {
  override readonly name = 'CLIError';
}

export function userClient(flags: ClientFlags, env = process.env): UserClient {
  const path = flags.kubeconfig ?? defaultKubeconfigPath(env);
  const context = flags.context ?? DEFAULT_CONTEXT;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CLIError(`no kubeconfig at ${path}: run 'kedge login --hub-url <url> --token <token>' first`);
  }
  const kc = parseKubeconfig(text);
  const ctx = kc.contexts.find((c) => c.name === context);
  if (!ctx) throw new CLIError(`kubeconfig ${path} has no context "${context}": run 'kedge login' first, or pass --context`);
  const userName = (ctx.context as { user?: string } | undefined)?.user;
  const user = kc.users.find((u) => u.name === userName)?.user as Record<string, unknown> | undefined;
  if (user?.exec !== undefined) {
    // Replace the exec plugin by the token it prints, so the loader (which refuses plugins) can read the rest.
    const token = runExecPlugin(user.exec as ExecConfig, env);
    for (const u of kc.users) if (u.name === userName) u.user = { token };
    text = stringify(kc);
  }
  const options = { ...loadKubeconfig({ yaml: text }, context), userAgent: 'kedge-cli' };
  if (options.tokenFile && !options.token) options.token = readFileSync(options.tokenFile, 'utf8').trim();
  const server = new URL(options.server);
  const m = /^\/clusters\/([^/]+)\/?$/.exec(server.pathname);
  if (!m) throw new CLIError(`context "${context}" does not point at a Kedge workspace (${options.server}): run 'kedge login' again`);
  return {
    client: new KubeClient(options),
    options,
    hubURL: server.origin,
    workspace: m[1] ?? '',
    token: options.token,
    kubeconfigPath: path,
    context,
  };
}

interface ExecConfig { command?: string; args?: string[]; env?: { name: string; value: string }[] }

function runExecPlugin(exec: ExecConfig, env: NodeJS.ProcessEnv): string {
  if (!exec.command) throw new CLIError('the kubeconfig exec plugin has no command');
  const extra = Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value]));
  let out: string;
  try {
    out = execFileSync(exec.command, exec.args ?? [], { env: { ...env, ...extra }, encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] });
  } catch (err) {
    throw new CLIError(`the credential plugin ${exec.command} failed (${(err as Error).message}): run 'kedge login' again`);
  }
  const token = (JSON.parse(out) as { status?: { token?: string } }).status?.token;
  if (!token) throw new CLIError(`the credential plugin ${exec.command} printed no token: run 'kedge login' again`);
  return token;
}
