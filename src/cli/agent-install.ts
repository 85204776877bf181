// `kedge agent install --type server …`: installs the server-mode agent as a systemd service on a plain host. It writes
// the join token (0600) and the hub's CA under /etc/kedge-agent/<edge>/ and the unit (src/cli/systemd-unit.ts) to
// /etc/systemd/system/kedge-agent-<edge>.service, then says how to start it. It runs nothing itself: the host's owner
// starts the service with systemctl. `--root DIR` writes below DIR instead of / (images, tests); the unit still
// names the final paths.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { readSecretLine } from '../util/secret-file.ts';
import { writeFileAtomic } from '../util/write-file-atomic.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { agentUnitName, renderAgentUnit } from './systemd-unit.ts';
import { isDNS1123Subdomain, isLogicalClusterName } from '../api/name-syntax.ts';

export interface AgentInstallFlags {
  type?: string;
  hubUrl?: string;
  cluster?: string;
  edge?: string;
  token?: string;
  tokenFile?: string;
  hubCaFile?: string;
  user?: string;
  sshAddress?: string;
  root?: string;
  agentScript?: string;
  node?: string;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** bin/kedge-agent.js of this installation (src/cli → ../../bin, also from dist/cli). */
function defaultAgentScript(): string {
  return fileURLToPath(new URL('../../bin/kedge-agent.js', import.meta.url));
}

export interface InstallResult {
  unitName: string;
  lines: string[];
}

/** Validates everything first (nothing is written on a bad flag), then writes the token, the CA and the unit. */
export function installAgent(flags: AgentInstallFlags): InstallResult {
  const problems: string[] = [];
  if ((flags.type ?? 'server') !== 'server')
    problems.push(
      '--type kubernetes is installed into the cluster (the kedge-agent Helm chart), or run in the foreground with `kedge agent join`; `agent install` writes a systemd unit for --type server',
    );
  const hubURL = flags.hubUrl?.replace(/\/+$/, '') ?? '';
  if (!/^https:\/\/[^\s?#]+$/.test(hubURL)) problems.push('--hub-url must be an https:// URL (no query or fragment)');
  const cluster = flags.cluster ?? '';
  if (!isLogicalClusterName(cluster))
    problems.push('--cluster is required (the logical cluster from the join command)');
  const edge = flags.edge ?? '';
  if (!isDNS1123Subdomain(edge)) problems.push('--edge is required: the Edge name');
  if (flags.user !== undefined && !USER.test(flags.user))
    problems.push(`--user ${JSON.stringify(flags.user)} is not a user name`);
  let token: string | undefined;
  if (flags.token !== undefined && flags.tokenFile !== undefined)
    problems.push('--token and --token-file exclude each other');
  else if (flags.tokenFile !== undefined) {
    try {
      token = readSecretLine(flags.tokenFile, '--token-file', (f) => readFileSync(f, 'utf8'));
    } catch (err) {
      problems.push((err as Error).message);
    }
  } else if (flags.token !== undefined && flags.token.trim() !== '') token = flags.token.trim();
  else problems.push('--token-file (or --token) is required: the join token from `kedge edge join-command`');
  if (flags.hubCaFile !== undefined && !existsSync(flags.hubCaFile))
    problems.push(`--hub-ca-file ${flags.hubCaFile} does not exist`);
  const node = resolve(flags.node ?? process.execPath);
  const agentScript = resolve(flags.agentScript ?? defaultAgentScript());
  for (const [flag, p] of [
    ['--node', node],
    ['--agent-script', agentScript],
  ] as const) {
    if (!existsSync(p)) problems.push(`${flag} ${p} does not exist`);
    if (/\s/.test(p)) problems.push(`${flag} ${p}: a path with whitespace cannot be used in a unit`);
  }
  const root = flags.root ?? '/';
  if (!isAbsolute(root)) problems.push('--root must be an absolute path');
  if (problems.length > 0) throw new CLIError(CLIErrorCode.FlagsInvalid, problems.join('; '));

  const confDir = `/etc/kedge-agent/${edge}`;
  const tokenFile = `${confDir}/join-token`;
  const caFile = flags.hubCaFile === undefined ? undefined : `${confDir}/hub-ca.crt`;
  const unitName = agentUnitName(edge);
  const unitFile = `/etc/systemd/system/${unitName}`;
  const at = (p: string): string => join(root, p);
  const unit = renderAgentUnit({
    edge,
    hubURL,
    cluster,
    node,
    agentScript,
    tokenFile,
    hubCAFile: caFile,
    user: flags.user,
    sshAddress: flags.sshAddress,
  });
  try {
    writeFileAtomic(at(tokenFile), `${token}\n`); // 0600 in a 0700 directory: root only; systemd hands it over
    if (caFile !== undefined && flags.hubCaFile !== undefined) copyFileSync(flags.hubCaFile, at(caFile));
    mkdirSync(dirname(at(unitFile)), { recursive: true });
    writeFileSync(at(unitFile), unit, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? ' (run it as root, e.g. with sudo)' : '';
    throw new CLIError(
      CLIErrorCode.WriteFailed,
      `could not write ${root === '/' ? '' : `below ${root} `}${(err as Error).message}${hint}`,
      {
        cause: err,
      },
    );
  }
  return {
    unitName,
    lines: [
      `wrote ${at(unitFile)}, ${at(tokenFile)} (0600)${caFile ? ` and ${at(caFile)}` : ''}`,
      'Start it now and at every boot:',
      `  systemctl daemon-reload && systemctl enable --now ${unitName}`,
      `Then: journalctl -u ${unitName} -f   (the join token is used once; the credential stays in /var/lib/kedge-agent/${edge})`,
    ],
  };
}

export function registerAgentInstallCommand(agent: Command): void {
  agent
    .command('install')
    .description('install the server-mode agent of a plain host as a systemd service (writes the unit; run as root)')
    .option('--type <type>', 'edge type; only server is installed this way', 'server')
    .option('--hub-url <url>', 'hub URL from the join command')
    .option('--cluster <name>', 'logical cluster from the join command')
    .option('--edge <name>', 'the Edge this host is')
    .option('--token-file <file>', 'file whose first line is the join token (copied to /etc/kedge-agent/<edge>, 0600)')
    .option('--token <token>', 'the join token itself (visible in ps while this runs; prefer --token-file)')
    .option('--hub-ca-file <file>', "CA that signed the hub's certificate (copied next to the token)")
    .option('--user <name>', 'run as this existing user (default: a dynamic unprivileged user, DynamicUser=yes)')
    .option('--ssh-address <host:port>', "sshd's address (default 127.0.0.1 and the Edge's sshPort)")
    .option('--root <dir>', 'write below this directory instead of / (image builds, tests)', '/')
    .option('--node <path>', 'Node.js binary the unit runs (default: the one running this command)')
    .option('--agent-script <path>', 'kedge-agent.js the unit runs (default: the one of this installation)')
    .addHelpText(
      'after',
      [
        '',
        'Example (the values come from `kedge edge join-command <edge>` on your workstation):',
        '  sudo kedge agent install --hub-url https://hub.example:8443 --cluster <lc> --edge pi \\',
        '    --token-file ./join-token --hub-ca-file ./hub-ca.crt',
        '  sudo systemctl daemon-reload && sudo systemctl enable --now kedge-agent-pi.service',
      ].join('\n'),
    )
    .action((flags: AgentInstallFlags) => {
      for (const line of installAgent(flags).lines) console.log(line);
    });
}
