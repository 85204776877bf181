// `kedge workspace list|use`: the workspaces this user may use (own and shared), from the hub's GET /auth/workspaces
// (a user cannot list other tenants' workspaces in kcp), and switching the "kedge" context's cluster to one of them.
import { stringify } from 'yaml';
import { WORKSPACES_PATH, type WorkspaceEntry, type WorkspaceList } from '../api/workspace-list.ts';
import { isApiError, transportCode } from '../kube/api-error.ts';
import { userClient, type ClientFlags, type UserClient } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { readKubeconfigFile, writeKubeconfigFile } from './kubeconfig.ts';
import { table, type Print } from './edge-crud.ts';

/** Turns a failed hub or kcp request into a CLIError that says what to do; `forbidden` words the 403. */
export async function explainHub<T>(p: Promise<T>, forbidden = 'not allowed'): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!isApiError(err)) {
      if (transportCode(err) === 'ECONNREFUSED')
        throw new CLIError(CLIErrorCode.HubUnreachable, 'cannot reach the hub (connection refused): is it running?');
      throw err;
    }
    if (err.code === 401)
      throw new CLIError(CLIErrorCode.Unauthorized, "the hub did not accept your credentials: run 'kedge login' again");
    if (err.code === 403) throw new CLIError(CLIErrorCode.Forbidden, forbidden);
    throw new CLIError(
      CLIErrorCode.Rejected,
      `the hub answered ${err.code} ${err.reason}: ${err.status?.message ?? ''}`.trim(),
    );
  }
}

/** The hub's list of the workspaces the kubeconfig's user may use. */
export async function fetchWorkspaces(user: UserClient): Promise<WorkspaceList> {
  const list = await explainHub(user.client.withServer(user.hubURL).request<WorkspaceList>('GET', WORKSPACES_PATH));
  if (list?.kind !== 'WorkspaceList' || !Array.isArray(list.items))
    throw new CLIError(CLIErrorCode.Rejected, `the hub at ${user.hubURL} does not list workspaces (an older hub?)`);
  return list;
}

export interface ListFlags extends ClientFlags {
  output?: string;
}

/** A table like `kubectl config get-contexts`: CURRENT marks the workspace the context points at. */
export function workspaceTable(items: readonly WorkspaceEntry[], current: string): string[] {
  const rows = [
    ['CURRENT', 'NAME', 'ROLE', 'ACCESS', 'PATH'],
    ...items.map((w) => [w.path === current ? '*' : '', w.name, w.role, w.own ? 'own' : 'shared', w.path]),
  ];
  return table(rows, 2).split('\n');
}

export async function listWorkspaces(flags: ListFlags, print: Print): Promise<void> {
  const user = await userClient(flags);
  try {
    const list = await fetchWorkspaces(user);
    const items = list.items.map((w) => ({ ...w, current: w.path === user.workspace }));
    if (flags.output === 'json') return print(JSON.stringify({ ...list, items }, null, 2));
    if (flags.output === 'yaml') return print(stringify({ ...list, items }).trimEnd());
    if (flags.output !== undefined)
      throw new CLIError(CLIErrorCode.FlagsInvalid, `--output must be json or yaml, not ${flags.output}`);
    for (const line of workspaceTable(list.items, user.workspace)) print(line);
  } finally {
    await user.client.close();
  }
}

/** NAME is a tenant id or a full path, as `list` prints them. */
export function findWorkspace(items: readonly WorkspaceEntry[], name: string): WorkspaceEntry | undefined {
  const n = name.replace(/^:/, '');
  return items.find((w) => w.name === n || w.path === n);
}

/**
 * Points the context's cluster at `<hub>/clusters/<path>`, keeping everything else (credentials, exec plugin, CA).
 * Refuses a name `list` does not show. Writes the file `kedge login` wrote (--kubeconfig, else the first of
 * $KUBECONFIG, else ~/.kube/config).
 */
export async function useWorkspace(name: string, flags: ClientFlags, print: Print): Promise<void> {
  const user = await userClient(flags);
  let list: WorkspaceList;
  try {
    list = await fetchWorkspaces(user);
  } finally {
    await user.client.close();
  }
  const target = findWorkspace(list.items, name);
  if (!target)
    throw new CLIError(
      CLIErrorCode.NotFound,
      `no workspace ${JSON.stringify(name)} among yours (${list.items.map((w) => w.name).join(', ')}): 'kedge workspace list' shows them`,
    );
  const kc = readKubeconfigFile(user.kubeconfigPath);
  const ctx = kc.contexts.find((c) => c.name === user.context)?.context as { cluster?: string } | undefined;
  const cluster = kc.clusters.find((c) => c.name === ctx?.cluster)?.cluster as Record<string, unknown> | undefined;
  if (!cluster)
    throw new CLIError(
      CLIErrorCode.NotLoggedIn,
      `context "${user.context}" and its cluster are not in ${user.kubeconfigPath}: pass --kubeconfig <the file kedge login wrote>`,
    );
  cluster.server = `${user.hubURL}/clusters/${target.path}`;
  writeKubeconfigFile(user.kubeconfigPath, kc);
  print(
    `Context "${user.context}" now uses workspace ${target.path} (${target.own ? 'own' : 'shared'}, role ${target.role}).`,
  );
}
