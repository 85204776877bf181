// The workspaces a user may use (`kedge workspace list|use`): their own tenant workspace and those shared with them.
// A user cannot list other tenants' workspaces in kcp, so the hub answers it at WORKSPACES_PATH (authenticated) from
// the share bindings it reads across all tenant workspaces. Shared by the hub and the CLI.
import { createHash } from 'node:crypto';
import type { API_VERSION } from './constants.ts';
import type { WorkspaceRole } from './workspace-roles.ts';

export const WORKSPACES_PATH = '/auth/workspaces';
export const WORKSPACE_LIST_KIND = 'WorkspaceList';

export interface WorkspaceEntry {
  /** The tenant id: the last segment of `path`. */
  name: string;
  /** Workspace path, e.g. root:kedge:tenants:alice-0123456789. */
  path: string;
  /** The caller's role there: admin in their own; in a shared one the strongest role a share binding grants. */
  role: WorkspaceRole;
  /** True for the caller's own tenant workspace. */
  own: boolean;
}

export interface WorkspaceList {
  apiVersion: typeof API_VERSION;
  kind: typeof WORKSPACE_LIST_KIND;
  /** The caller as kcp sees them (the name others share with). */
  user: string;
  /** Own workspace first, then shared ones by path. */
  items: WorkspaceEntry[];
}

/** Kind of a share's subject, as in an RBAC subject. */
export type ShareSubjectKind = 'User' | 'Group';

/**
 * Label on share bindings next to LABEL_SHARE_ROLE: a digest of the subject, so the hub selects (`in (…)`) only the
 * bindings naming the caller or one of their groups. Names do not fit label values (`:`/`@`, 63 characters).
 * The hub still checks the binding's subjects: the label only narrows the list.
 */
export const LABEL_SHARE_SUBJECT = 'kedge.faros.sh/share-subject';

export function shareSubjectDigest(kind: ShareSubjectKind, name: string): string {
  return `${kind === 'User' ? 'u' : 'g'}-${createHash('sha256').update(`${kind}\0${name}`).digest('hex').slice(0, 20)}`;
}
