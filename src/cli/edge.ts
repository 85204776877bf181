// Registers `kedge edge …` and `kedge kubeconfig edge …` on the CLI program; the commands live in edge-*.ts.
import { Option, type Command } from 'commander';
import { DEFAULT_JOIN_TTL_MS } from '../api/join-token.ts';
import { durationArg } from '../util/duration.ts';
import { createEdge, deleteEdge, getEdge, listEdges, waitForReady } from './edge-crud.ts';
import { DEFAULT_AGENT_CHART, joinCommand, rotateCredentials } from './edge-join.ts';
import { trustHostKey } from './edge-host-key.ts';
import { kubeconfigEdge } from './kubeconfig-edge.ts';
import { userClient } from './client.ts';

const print = (l: string): void => console.log(l);
const progress = (l: string): void => console.error(l);

function ttlOption(description: string): Option {
  return new Option('--ttl <duration>', description).argParser(durationArg).default(DEFAULT_JOIN_TTL_MS, '1h');
}

function common(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig with the "kedge" context (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'context to use', 'kedge');
}

export function registerEdgeCommands(program: Command): void {
  const edge = program.command('edge').description('create, inspect and connect edges (sites running a kedge agent)');

  common(edge.command('create <name>'))
    .description(
      'create an Edge; then run the join command it prints (or `kedge edge join-command <name>`) on the site',
    )
    .option('--type <type>', 'kubernetes (a cluster) or server (a host reached by SSH)', 'kubernetes')
    .option('--labels <k=v,...>', 'labels that workload edge selectors match')
    .option('--ssh-port <port>', 'server edges: port of the SSH server on the host (default 22)')
    .option('--unschedulable', 'place no new workloads on this edge')
    .option('--wait', 'print a join command and wait until the agent connected and the edge is Ready')
    .addOption(
      new Option('--timeout <duration>', 'how long --wait waits').argParser(durationArg).default(10 * 60_000, '10m'),
    )
    .addOption(ttlOption('with --wait: validity of the join token'))
    .action(async (name: string, flags) => {
      await createEdge(name, flags, print);
      if (!flags.wait) {
        print(`Next: kedge edge join-command ${name}`);
        return;
      }
      await joinCommand(name, flags, print);
      await waitForReady((await userClient(flags)).client, name, flags.timeout, progress);
    });

  common(edge.command('list'))
    .alias('ls')
    .description('list edges with their phase')
    .action(async (flags) => listEdges(flags, print));

  common(edge.command('get <name>'))
    .description('show one edge')
    .option('-o, --output <format>', 'yaml, json or wide')
    .action(async (name: string, flags) => getEdge(name, flags, print));

  common(edge.command('delete <name>'))
    .alias('rm')
    .description('delete an edge and revoke its agent credential')
    .action(async (name: string, flags) => deleteEdge(name, flags, print));

  common(edge.command('join-command <name>'))
    .description(
      'print the agent command and the Helm install (server edges: the agent and its systemd unit) with a single-use join token',
    )
    .addOption(ttlOption('validity of the join token (max 7d)'))
    .option('--write-ca <file>', "save the hub's CA certificate to this file and reference it in the command")
    .option(
      '--chart <ref>',
      `the kedge-agent chart in the printed helm install: a directory or a .tgz`,
      DEFAULT_AGENT_CHART,
    )
    .action(async (name: string, flags) => {
      await joinCommand(name, flags, print);
    });

  common(edge.command('rotate-credentials <name>'))
    .description("revoke the edge's agent credential now and print a new join command")
    .addOption(ttlOption('validity of the new join token (max 7d)'))
    .option('--write-ca <file>', "save the hub's CA certificate to this file and reference it in the command")
    .action(async (name: string, flags) => {
      await rotateCredentials(name, flags, print);
    });

  common(edge.command('trust-host-key <name>'))
    .description(
      "re-pin a server edge's SSH host keys to the ones sshd presents now (after checking them with the host's owner)",
    )
    .option('--yes', 'do not ask for confirmation (for scripts; check the fingerprints first)')
    .action(async (name: string, flags) => trustHostKey(name, flags, print));

  const kubeconfig = program.command('kubeconfig').description('write kubeconfigs for kubectl through the hub');
  common(kubeconfig.command('edge <name>'))
    .description("a kubeconfig for one edge's Kubernetes API through the hub (get, apply, logs, exec, port-forward)")
    .option('-o, --output <file>', 'write it to this file (mode 0600) instead of printing it')
    .action(async (name: string, flags) => kubeconfigEdge(name, flags, print));
}
