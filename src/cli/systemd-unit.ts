// The systemd unit of a server-mode agent on a plain host (`kedge agent install`, docs/ssh.md "Run the agent as a
// service"). Pure: the caller says where things are; this only renders text.
//
// Choices: a dynamic unprivileged user (or --user), state in StateDirectory= (the edge credential, 0700), the join
// token and the hub's CA handed over as systemd credentials (LoadCredential=: the files stay root's, 0600; the token is
// never in the command line or the environment), restart
// on failure except for exit 2 (bad flags) and 3 (join refused, credential revoked: a restart cannot help), and the
// sandboxing options `systemd-analyze security` looks for. MemoryDenyWriteExecute= is not set: V8's JIT needs it off.

export interface AgentUnitOptions {
  edge: string;
  hubURL: string;
  cluster: string;
  /** Absolute path of the Node binary and of bin/kedge-agent.js. */
  node: string;
  agentScript: string;
  /** Files systemd hands the agent as credentials (LoadCredential=): the join token and, if given, the hub's CA. */
  tokenFile: string;
  hubCAFile?: string;
  /** An existing user to run as; undefined = DynamicUser=yes. */
  user?: string;
  sshAddress?: string;
}

/** `kedge-agent-<edge>.service`. */
export function agentUnitName(edge: string): string {
  return `kedge-agent-${edge}.service`;
}

/** StateDirectory= (below /var/lib) of the edge's agent. */
export function agentStateDirectory(edge: string): string {
  return `kedge-agent/${edge}`;
}

/**
 * One ExecStart= word: `%` and `$` are doubled (systemd specifiers and variables, except the `${…}` this file
 * writes on purpose), and a word with whitespace, quotes or backslashes is double-quoted with C escapes.
 */
export function execWord(word: string, { expand = false } = {}): string {
  let w = word.replaceAll('%', '%%');
  if (!expand) w = w.replaceAll('$', () => '$$'); // a function: in a replacement string '$$' means one '$'
  if (w !== '' && !/[\s"'\\;]/.test(w)) return w;
  return `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A unit-file value of a path setting: `%` doubled (specifiers); paths with whitespace are refused by the caller. */
function pathValue(p: string): string {
  return p.replaceAll('%', '%%');
}

export function renderAgentUnit(o: AgentUnitOptions): string {
  const args = [
    execWord(o.node),
    execWord(o.agentScript),
    ...['--type', 'server', '--hub-url', o.hubURL, '--cluster', o.cluster, '--edge', o.edge].map((w) => execWord(w)),
    '--state-dir',
    execWord('${STATE_DIRECTORY}', { expand: true }),
    '--token-file',
    execWord('${CREDENTIALS_DIRECTORY}/join-token', { expand: true }),
  ];
  if (o.hubCAFile !== undefined)
    args.push('--hub-ca-file', execWord('${CREDENTIALS_DIRECTORY}/hub-ca', { expand: true }));
  if (o.sshAddress !== undefined) args.push('--ssh-address', execWord(o.sshAddress));
  // The agent's code and Node live under a home directory when installed there: readable, never writable.
  const underHome = [o.node, o.agentScript].some((p) => p.startsWith('/home/') || p.startsWith('/root/'));
  const user = o.user === undefined ? ['DynamicUser=yes'] : [`User=${o.user}`, 'DynamicUser=no'];
  return `${[
    "# Written by `kedge agent install`. The agent dials out to the hub and relays SSH sessions to this host's sshd.",
    '[Unit]',
    `Description=Kedge agent for edge ${o.edge} (SSH to this host through the hub)`,
    'Documentation=https://github.com/faroshq/kedge/blob/main/docs/ssh.md',
    'Wants=network-online.target',
    'After=network-online.target sshd.service ssh.service',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${args.join(' ')}`,
    ...user,
    `StateDirectory=${agentStateDirectory(o.edge)}`,
    'StateDirectoryMode=0700',
    `LoadCredential=join-token:${pathValue(o.tokenFile)}`,
    ...(o.hubCAFile === undefined ? [] : [`LoadCredential=hub-ca:${pathValue(o.hubCAFile)}`]),
    'Restart=on-failure',
    'RestartSec=5s',
    'RestartPreventExitStatus=2 3',
    'TimeoutStopSec=15s',
    'UMask=0077',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'ProtectSystem=strict',
    `ProtectHome=${underHome ? 'read-only' : 'yes'}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n')}\n`;
}
