// Registers `kedge workspace share|unshare|list|use` (small teams, issue 9): the commands live in workspace-*.ts.
import { Option, type Command } from 'commander';
import { listWorkspaces, useWorkspace } from './workspace-list.ts';
import { listShares, share, unshare } from './workspace-share.ts';

const print = (l: string): void => console.log(l);

function common(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig with the "kedge" context (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'context to use', 'kedge');
}

const SUBJECT_HELP = `
USER is a name as the hub sees it. An OIDC user is given by the claim the hub
maps (by default the email, e.g. bob@example.com) and gets the hub's OIDC prefix
(kedge:oidc: by default). A name that starts with kedge: is used as is: give a
static-token user in full, kedge:static:<tenant>. --group GROUP works the same
way with the groups claim (--group acme → kedge:oidc:acme).`;

export function registerWorkspaceCommands(program: Command): void {
  const ws = program
    .command('workspace')
    .description('share your workspace with others and switch between the workspaces you may use');

  common(ws.command('share [user]'))
    .description("give USER (or --group GROUP) a role in the context's workspace; replaces their previous role")
    .option('--group <group>', 'share with a group instead of a user')
    .addOption(
      new Option('--role <role>', 'admin (everything, including sharing), edit (create and change), view (read)')
        .choices(['admin', 'edit', 'view'])
        .default('view'),
    )
    .addHelpText(
      'after',
      `${SUBJECT_HELP}

Only a workspace admin (the owner, or someone shared as admin) can share: kcp checks it.
Examples:
  kedge workspace share bob@example.com --role edit
  kedge workspace share --group acme            # view
  kedge workspace share kedge:static:ci-bot --role view`,
    )
    .action(async (user: string | undefined, flags) => share(user, flags, print));

  common(ws.command('unshare [user]'))
    .description("remove USER's (or --group GROUP's) share of the context's workspace")
    .option('--group <group>', 'unshare a group instead of a user')
    .addHelpText('after', SUBJECT_HELP)
    .action(async (user: string | undefined, flags) => unshare(user, flags, print));

  common(ws.command('shares'))
    .description("list who the context's workspace is shared with, and as what (workspace admins only)")
    .action(async (flags) => listShares(flags, print));

  common(ws.command('list'))
    .alias('ls')
    .description('list the workspaces you may use (your own and those shared with you), with your role')
    .option('-o, --output <format>', 'json or yaml')
    .action(async (flags) => listWorkspaces(flags, print));

  common(ws.command('use <name>'))
    .description('point the "kedge" context at a workspace from `kedge workspace list` (a NAME or a PATH)')
    .action(async (name: string, flags) => useWorkspace(name, flags, print));
}
