// `kedge workspace share|unshare`: plain RBAC in the current tenant workspace, written through the hub with the
// user's OWN credentials, so kcp decides who may share (whoever may create ClusterRoleBindings there: the owner and
// anyone shared as admin). A share is one ClusterRoleBinding to `kedge:workspace:<role>` (src/api/workspace-roles.ts)
// with a deterministic name, labelled with the role and a digest of the subject, which the hub's GET /auth/workspaces
// selects on (src/hub/tenancy/workspace-list.ts).
import { WORKSPACE_TENANTS } from '../api/constants.ts';
import { EDGE_ROLES } from '../api/edge-identity.ts';
import { LOGIN_CONFIG_PATH, type LoginConfig } from '../api/login-config.ts';
import { LABEL_SHARE_SUBJECT, shareSubjectDigest, type ShareSubjectKind } from '../api/workspace-list.ts';
import { LABEL_SHARE_ROLE, workspaceClusterRole, type WorkspaceRole } from '../api/workspace-roles.ts';
import { isApiError, isNotFound } from '../kube/api-error.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/types.ts';
import { userClient, type ClientFlags, type UserClient } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { table, type Print } from './edge-crud.ts';
import { explainHub } from './workspace-list.ts';

const RBAC = 'rbac.authorization.k8s.io';
const CRB_PATH = `/apis/${RBAC}/v1/clusterrolebindings`;
/** What the hub prefixes OIDC names with when its discovery document does not say (an older hub). */
export const FALLBACK_OIDC_PREFIX = 'kedge:oidc:';

export interface Subject {
  kind: ShareSubjectKind;
  name: string;
}
type Binding = KubeObject & {
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
  subjects?: { apiGroup?: string; kind?: string; name?: string }[];
};

export interface ShareFlags extends ClientFlags {
  group?: string;
  role?: string;
}

export function parseRole(role: string | undefined): WorkspaceRole {
  const r = role ?? 'view';
  if (!(EDGE_ROLES as readonly string[]).includes(r))
    throw new CLIError(CLIErrorCode.FlagsInvalid, `unknown role ${JSON.stringify(r)}: use admin, edit or view`);
  return r as WorkspaceRole;
}

/** USER xor --group, as given (prefixing comes later). */
export function subjectArg(user: string | undefined, flags: Pick<ShareFlags, 'group'>): Subject {
  if ((user === undefined) === (flags.group === undefined))
    throw new CLIError(CLIErrorCode.FlagsInvalid, 'name exactly one subject: a USER argument or --group GROUP');
  const name = (user ?? flags.group ?? '').trim();
  if (name === '') throw new CLIError(CLIErrorCode.FlagsInvalid, 'the user or group name is empty');
  return { kind: user !== undefined ? 'User' : 'Group', name };
}

/**
 * The name kcp will see: kept when it starts with `kedge:` (a static-token user is `kedge:static:<tenant>`), else
 * the hub's OIDC prefix (from its login discovery document) is put before it. `system:` names are refused: sharing
 * with e.g. system:authenticated would open the workspace to everyone.
 */
export function resolveSubject(s: Subject, oidcPrefix: string | undefined): Subject {
  if (s.name.startsWith('system:'))
    throw new CLIError(CLIErrorCode.FlagsInvalid, `${s.name}: kcp's system: names cannot be given a share`);
  if (s.name.startsWith('kedge:')) return s;
  if (oidcPrefix === undefined)
    throw new CLIError(
      CLIErrorCode.FlagsInvalid,
      `this hub has no OIDC login, so give the full Kedge name (e.g. kedge:static:<tenant>), not ${JSON.stringify(s.name)}`,
    );
  return { ...s, name: `${oidcPrefix}${s.name}` };
}

/** `kedge:share:<role>:<user|group>:<readable part>-<digest>`: one name per role and subject. */
export function shareBindingName(role: WorkspaceRole, s: Subject): string {
  const readable = s.name
    .replace(/^kedge:(oidc:)?/, '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 40);
  const digest = shareSubjectDigest(s.kind, s.name).slice(2, 10);
  return `kedge:share:${role}:${s.kind === 'User' ? 'user' : 'group'}:${readable ? `${readable}-` : ''}${digest}`;
}

export function shareBinding(role: WorkspaceRole, s: Subject): Binding {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: {
      name: shareBindingName(role, s),
      labels: { [LABEL_SHARE_ROLE]: role, [LABEL_SHARE_SUBJECT]: shareSubjectDigest(s.kind, s.name) },
    },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: workspaceClusterRole(role) },
    subjects: [{ apiGroup: RBAC, kind: s.kind, name: s.name }],
  };
}

/** The hub's OIDC prefix; undefined when it offers no OIDC login; the fallback when it has no discovery document. */
export async function hubOidcPrefix(hub: KubeClient): Promise<string | undefined> {
  try {
    const cfg = await hub.request<LoginConfig>('GET', LOGIN_CONFIG_PATH);
    return cfg.methods?.includes('oidc') ? (cfg.oidc?.prefix ?? FALLBACK_OIDC_PREFIX) : undefined;
  } catch (err) {
    if (isNotFound(err)) return FALLBACK_OIDC_PREFIX;
    throw err;
  }
}

function requireTenantWorkspace(user: UserClient): void {
  const rest = user.workspace.startsWith(`${WORKSPACE_TENANTS}:`)
    ? user.workspace.slice(WORKSPACE_TENANTS.length + 1)
    : '';
  if (!/^[a-z0-9-]+$/.test(rest))
    throw new CLIError(
      CLIErrorCode.NotApplicable,
      `sharing works on tenant workspaces (${WORKSPACE_TENANTS}:<tenant>), and context "${user.context}" points at ${user.workspace}: 'kedge workspace use' switches`,
    );
}

/** The share bindings of this workspace for exactly this subject. */
async function sharesOf(client: KubeClient, s: Subject, forbidden: string): Promise<Binding[]> {
  const list = await explainHub(
    client.listAll<Binding>(CRB_PATH, {
      labelSelector: `${LABEL_SHARE_ROLE},${LABEL_SHARE_SUBJECT}=${shareSubjectDigest(s.kind, s.name)}`,
    }),
    forbidden,
  );
  return list.items.filter(
    (b) => b.subjects?.length === 1 && b.subjects[0]?.kind === s.kind && b.subjects[0]?.name === s.name,
  );
}

const describe = (s: Subject): string => `${s.kind === 'User' ? 'user' : 'group'} ${s.name}`;

export async function share(userArg: string | undefined, flags: ShareFlags, print: Print): Promise<void> {
  const role = parseRole(flags.role);
  await withShareTarget(userArg, flags, 'share', async ({ client: c, ws, s, forbidden }) => {
    // The roles are the hub's (created at login); without one, the binding would grant nothing.
    try {
      await c.get(`/apis/${RBAC}/v1/clusterroles/${workspaceClusterRole(role)}`);
    } catch (err) {
      if (isNotFound(err))
        throw new CLIError(
          CLIErrorCode.NotApplicable,
          `${ws} has no ClusterRole ${workspaceClusterRole(role)} yet: the hub creates it when the owner logs in ('kedge login' again)`,
        );
      await explainHub(Promise.reject(err), forbidden);
    }
    const existing = await sharesOf(c, s, forbidden);
    const desired = shareBinding(role, s);
    const name = desired.metadata.name ?? '';
    const same = existing.find((b) => b.metadata.name === name && b.roleRef?.name === workspaceClusterRole(role));
    if (!same) {
      if (existing.some((b) => b.metadata.name === name)) await explainHub(c.delete(`${CRB_PATH}/${name}`), forbidden);
      await explainHub(c.create(CRB_PATH, desired), forbidden);
    }
    // Re-sharing with another role replaces the previous one (after the new binding exists: no gap in access).
    const replaced = existing.filter((b) => b.metadata.name !== name);
    for (const b of replaced) await deleteBinding(c, b, forbidden);
    const was = replaced.map((b) => b.metadata.labels?.[LABEL_SHARE_ROLE]).filter(Boolean);
    print(
      same && replaced.length === 0
        ? `${ws} is already shared with ${describe(s)} as ${role}; nothing changed.`
        : `Shared ${ws} with ${describe(s)} as ${role}${was.length ? ` (was ${was.join(', ')})` : ''}.`,
    );
  });
}

export async function unshare(userArg: string | undefined, flags: ShareFlags, print: Print): Promise<void> {
  await withShareTarget(userArg, flags, 'unshare', async ({ client, ws, s, forbidden }) => {
    const existing = await sharesOf(client, s, forbidden);
    if (existing.length === 0)
      throw new CLIError(CLIErrorCode.NotFound, `${ws} is not shared with ${describe(s)}; nothing changed`);
    for (const b of existing) await deleteBinding(client, b, forbidden);
    const roles = existing.map((b) => b.metadata.labels?.[LABEL_SHARE_ROLE]).filter(Boolean);
    print(`Unshared ${ws} from ${describe(s)} (was ${roles.join(', ')}).`);
  });
}

/**
 * What share and unshare both start with: the context's tenant workspace, the subject resolved with the hub's OIDC
 * prefix, and the message for a 403; the client is closed afterwards.
 */
async function withShareTarget(
  userArg: string | undefined,
  flags: ShareFlags,
  verb: 'share' | 'unshare',
  fn: (t: { client: KubeClient; ws: string; s: Subject; forbidden: string }) => Promise<void>,
): Promise<void> {
  const given = subjectArg(userArg, flags);
  const user = await userClient(flags);
  try {
    requireTenantWorkspace(user);
    const s = resolveSubject(given, await explainHub(hubOidcPrefix(user.client.withServer(user.hubURL))));
    const ws = user.workspace;
    await fn({ client: user.client, ws, s, forbidden: `only a workspace admin can ${verb} ${ws}` });
  } finally {
    await user.client.close();
  }
}

/** `kedge workspace shares`: who the context's workspace is shared with (a workspace admin may read that). */
export async function listShares(flags: ClientFlags, print: Print): Promise<void> {
  const user = await userClient(flags);
  try {
    requireTenantWorkspace(user);
    const list = await explainHub(
      user.client.listAll<Binding>(CRB_PATH, { labelSelector: LABEL_SHARE_ROLE }),
      `only a workspace admin can see the shares of ${user.workspace}`,
    );
    const rows = list.items.flatMap((b) =>
      (b.subjects ?? []).map((s) => [
        (s.kind ?? '').toLowerCase(),
        s.name ?? '',
        b.roleRef?.name?.replace(/^kedge:workspace:/, '') ?? '',
      ]),
    );
    if (rows.length === 0) return print(`${user.workspace} is not shared with anyone.`);
    rows.sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
    print(table([['KIND', 'NAME', 'ROLE'], ...rows], 2));
  } finally {
    await user.client.close();
  }
}

async function deleteBinding(c: KubeClient, b: Binding, forbidden: string): Promise<void> {
  try {
    await c.delete(`${CRB_PATH}/${b.metadata.name ?? ''}`);
  } catch (err) {
    if (isApiError(err) && err.code === 404) return; // gone meanwhile: that is what we wanted
    await explainHub(Promise.reject(err), forbidden);
  }
}
