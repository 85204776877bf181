// The agent's flags (shared by `kedge-agent` and `kedge agent join`) and their validation into an AgentConfig.
// Pure: no I/O besides what the caller passes in (env, home directory); bad input fails here with the flag named.
import { join } from 'node:path';
import type { Command } from 'commander';
import { AgentError, AgentErrorCode } from './errors.ts';
import { DURATION_HINT, parseDuration } from '../util/duration.ts';
import { readSecretLine } from '../util/secret-file.ts';
import { isDNS1123Label, isDNS1123Subdomain, isLogicalClusterName } from '../api/name-syntax.ts';

export interface AgentFlags {
  hubUrl?: string;
  cluster?: string;
  edge?: string;
  token?: string;
  tokenFile?: string;
  stateDir?: string;
  kubeconfig?: string;
  context?: string;
  hubCaFile?: string;
  insecureSkipTlsVerify?: boolean;
  heartbeatInterval?: string;
  keepaliveInterval?: string;
  keepaliveTimeout?: string;
  resyncInterval?: string;
  type?: string;
  sshAddress?: string;
  hostKeyInterval?: string;
  /** Commander's `--no-default-edge-rbac`: true unless the flag is given. */
  defaultEdgeRbac?: boolean;
  leaderElect?: boolean;
  leaseName?: string;
  credentialSecret?: string;
  namespace?: string;
}

/** Settings both modes share. */
interface BaseAgentConfig {
  /** The hub's base URL without a trailing slash (origin plus an optional path prefix). */
  hubURL: string;
  /** Logical cluster of the tenant workspace that holds the Edge. */
  cluster: string;
  edge: string;
  /** Only needed until the credential is stored. */
  joinToken?: string;
  stateDir: string;
  hubCAFile?: string;
  insecureSkipTLSVerify: boolean;
  heartbeatIntervalMs: number;
  keepAliveIntervalMs: number;
  keepAliveTimeoutMs: number;
}

/** Kubernetes mode: the agent manages a local cluster. */
export interface KubernetesAgentConfig extends BaseAgentConfig {
  type: 'kubernetes';
  /** Local cluster kubeconfig: --kubeconfig, else $KUBECONFIG (a `:` list, merged like kubectl); undefined = in-cluster. */
  kubeconfig?: string;
  context?: string;
  /** Every Placement is reconciled again this often (VirtualWorkload edits do not change the Placement). */
  resyncIntervalMs: number;
  /** Create the absent default ClusterRoleBindings for callers through the hub (src/agent/edge-rbac.ts). */
  defaultEdgeRbac: boolean;
  /** --leader-elect: only the holder of this Lease (in `namespace`) joins and holds the tunnel. */
  leaderElection?: { namespace: string; leaseName: string };
  /** --credential-secret: the credential is kept in this Secret of the local cluster instead of --state-dir. */
  credentialSecret?: { namespace: string; name: string };
}

/** Server mode: the agent relays SSH to the host's sshd; no Kubernetes anywhere. */
export interface ServerAgentConfig extends BaseAgentConfig {
  type: 'server';
  /** --ssh-address; undefined = 127.0.0.1:<Edge.spec.server.sshPort, default 22>. */
  sshAddress?: SshAddress;
  /** sshd's host keys are scanned again this often (also at start and on every tunnel connect). */
  hostKeyIntervalMs: number;
}

export type AgentConfig = KubernetesAgentConfig | ServerAgentConfig;

export interface SshAddress {
  /** A host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
}

export const DEFAULTS = {
  heartbeatInterval: '30s',
  keepaliveInterval: '15s',
  keepaliveTimeout: '10s',
  resyncInterval: '60s',
  hostKeyInterval: '5m',
  type: 'kubernetes',
} as const;

/** The sshd port when the Edge does not name one. */
export const DEFAULT_SSH_PORT = 22;

/** Registers the agent flags on a commander command (kedge-agent's root, or `kedge agent join`). */
export function addAgentOptions(cmd: Command): Command {
  return (
    cmd
      .option('--hub-url <url>', 'hub URL as printed by `kedge edge join-command`, e.g. https://hub.example.com:8443')
      .option('--cluster <name>', 'logical cluster of the workspace that holds the Edge (from the join command)')
      .option('--edge <name>', 'name of the Edge this agent serves')
      .option('--token <token>', 'one-time join token; needed on the first start only (the credential is stored)')
      .option(
        '--token-file <file>',
        'file whose first line is the join token: keeps it out of ps (a mounted Secret, a systemd credential)',
      )
      .option('--state-dir <dir>', 'where the edge credential is kept, mode 0600 (default ~/.kedge-agent/<edge>)')
      .option('--type <type>', 'edge type: kubernetes (a cluster) or server (a host with sshd)', DEFAULTS.type)
      .option(
        '--kubeconfig <file>',
        'kubernetes: kubeconfig of the LOCAL cluster (default $KUBECONFIG, else in-cluster)',
      )
      .option('--context <name>', 'kubernetes: context in --kubeconfig (default its current-context)')
      .option(
        '--no-default-edge-rbac',
        'kubernetes: do not create the default ClusterRoleBindings kedge:edge:admin|edit|view (→ cluster-admin|edit|view) for callers through the hub',
      )
      .option(
        '--leader-elect',
        'kubernetes: several replicas (a DaemonSet) campaign for a Lease in the local cluster; only its holder joins and holds the tunnel, a standby takes over within ~15 s',
      )
      .option('--lease-name <name>', 'kubernetes: the Lease of --leader-elect (default kedge-agent-<edge>)')
      .option(
        '--credential-secret <name>',
        'kubernetes: keep the edge credential in this Secret of the local cluster instead of --state-dir (survives pod restarts and rescheduling)',
      )
      .option(
        '--namespace <ns>',
        "kubernetes: namespace of the Lease and the credential Secret (default $POD_NAMESPACE, else the pod's service account namespace)",
      )
      .option('--hub-ca-file <file>', "CA that signed the hub's certificate (default: system roots)")
      .option('--insecure-skip-tls-verify', 'do not verify the hub certificate (development only)')
      .option(
        '--heartbeat-interval <duration>',
        'how often edge facts are reported (heartbeat)',
        DEFAULTS.heartbeatInterval,
      )
      .option('--keepalive-interval <duration>', 'tunnel ping interval', DEFAULTS.keepaliveInterval)
      .option(
        '--keepalive-timeout <duration>',
        'tunnel ping deadline; a missed one reconnects',
        DEFAULTS.keepaliveTimeout,
      )
      // No commander defaults below: a mode-specific flag given in the other mode is an error, so "given" must show.
      .option(
        '--resync-interval <duration>',
        `kubernetes: how often every Placement is reconciled again (default ${DEFAULTS.resyncInterval})`,
      )
      .option(
        '--ssh-address <host:port>',
        "server: sshd to relay SSH to (default 127.0.0.1:<the Edge's spec.server.sshPort, else 22>)",
      )
      .option(
        '--host-key-interval <duration>',
        `server: how often sshd's host keys are scanned and reported (default ${DEFAULTS.hostKeyInterval}; also at start and on every tunnel connect)`,
      )
  );
}

export const AGENT_HELP = `
The agent dials OUT to the hub (no inbound port), keeps one tunnel open and reports edge facts (heartbeat).
  --type kubernetes (default): reconciles this edge's Placements into the local cluster as Deployments/Services and
    serves \`kubectl\` through the hub.
  --type server: relays each SSH session from the hub to this host's sshd (127.0.0.1:<the Edge's sshPort> or
    --ssh-address) and reports the host keys sshd presents, so clients can pin them. No Kubernetes, no root needed;
    SSH runs end to end between the user's client and sshd (the agent and the hub never see a credential).

First start (from \`kedge edge join-command <edge>\`):
  kedge-agent --hub-url https://hub:8443 --cluster <lc> --edge <edge> --token <join token> [--hub-ca-file ca.crt]
  kedge-agent --type server --hub-url https://hub:8443 --cluster <lc> --edge <host> --token <join token>
  (--token-file FILE instead of --token keeps the token out of ps.)
Later starts: the same without --token; the credential stored in --state-dir is reused.

Exit codes: 0 stopped by a signal, 2 bad flags, 3 join refused or credential revoked (get a new join command),
1 anything else. Durations: 500ms, 30s, 2m, 1h (a bare number means seconds).`;

/**
 * Validates the flags; every problem is reported at once, each naming its flag. `readFile` reads --token-file
 * (injected, so this stays free of I/O in tests).
 */
export function agentConfig(
  flags: AgentFlags,
  env: { HOME?: string; KUBECONFIG?: string; POD_NAMESPACE?: string },
  readFile: (path: string) => string = () => {
    throw new Error('no file reader');
  },
): AgentConfig {
  const problems: string[] = [];
  const hubURL = checkHubURL(flags.hubUrl, problems);
  const cluster = flags.cluster?.trim() ?? '';
  if (cluster === '') problems.push('--cluster is required (the logical cluster from the join command)');
  else if (!isLogicalClusterName(cluster))
    problems.push(`--cluster ${JSON.stringify(cluster)} is not a logical cluster name`);
  const edge = flags.edge?.trim() ?? '';
  if (edge === '') problems.push('--edge is required');
  else if (!isDNS1123Subdomain(edge)) problems.push(`--edge ${JSON.stringify(edge)} is not a valid Edge name`);
  const type = flags.type ?? DEFAULTS.type;
  if (type !== 'kubernetes' && type !== 'server')
    problems.push(`--type must be kubernetes or server, not ${JSON.stringify(type)}`);
  problems.push(...modeFlagProblems(type, flags));
  let token = flags.token?.trim();
  if (flags.token !== undefined && token === '') problems.push('--token is empty');
  if (flags.tokenFile !== undefined) {
    if (flags.token !== undefined) problems.push('--token and --token-file exclude each other');
    else {
      try {
        token = readSecretLine(flags.tokenFile, '--token-file', readFile);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  const duration = (flag: string, value: string | undefined, fallback: string): number => {
    const ms = parseDuration(value ?? fallback);
    if (ms === undefined) problems.push(`--${flag} ${JSON.stringify(value)} is not a duration: ${DURATION_HINT}`);
    return ms ?? 0;
  };
  const heartbeatIntervalMs = duration('heartbeat-interval', flags.heartbeatInterval, DEFAULTS.heartbeatInterval);
  const keepAliveIntervalMs = duration('keepalive-interval', flags.keepaliveInterval, DEFAULTS.keepaliveInterval);
  const keepAliveTimeoutMs = duration('keepalive-timeout', flags.keepaliveTimeout, DEFAULTS.keepaliveTimeout);
  const resyncIntervalMs = duration('resync-interval', flags.resyncInterval, DEFAULTS.resyncInterval);
  const hostKeyIntervalMs = duration('host-key-interval', flags.hostKeyInterval, DEFAULTS.hostKeyInterval);
  let sshAddress: SshAddress | undefined;
  if (flags.sshAddress !== undefined) {
    sshAddress = parseSshAddress(flags.sshAddress);
    if (sshAddress === undefined)
      problems.push(
        `--ssh-address ${JSON.stringify(flags.sshAddress)} is not host:port (e.g. 127.0.0.1:22 or [::1]:2222)`,
      );
  }
  if (flags.hubCaFile !== undefined && flags.insecureSkipTlsVerify)
    problems.push('--hub-ca-file and --insecure-skip-tls-verify exclude each other');
  const inCluster = type === 'kubernetes' ? inClusterObjects(flags, edge, env, readFile, problems) : {};
  if (problems.length > 0) throw new AgentError(AgentErrorCode.FlagsInvalid, problems.join('; '));

  const home = env.HOME ?? '/';
  const base: BaseAgentConfig = {
    hubURL,
    cluster,
    edge,
    joinToken: token,
    stateDir: flags.stateDir ?? join(home, '.kedge-agent', edge),
    hubCAFile: flags.hubCaFile,
    insecureSkipTLSVerify: flags.insecureSkipTlsVerify === true,
    heartbeatIntervalMs,
    keepAliveIntervalMs,
    keepAliveTimeoutMs,
  };
  if (type === 'server') return { ...base, type: 'server', sshAddress, hostKeyIntervalMs };
  return {
    ...base,
    type: 'kubernetes',
    kubeconfig: flags.kubeconfig ?? (env.KUBECONFIG || undefined),
    context: flags.context,
    resyncIntervalMs,
    defaultEdgeRbac: flags.defaultEdgeRbac !== false,
    ...inCluster,
  };
}

/** Where a pod's service account namespace is mounted. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** --leader-elect, --lease-name, --credential-secret and --namespace: the agent's own objects in the local cluster. */
function inClusterObjects(
  flags: AgentFlags,
  edge: string,
  env: { POD_NAMESPACE?: string },
  readFile: (path: string) => string,
  problems: string[],
): Pick<KubernetesAgentConfig, 'leaderElection' | 'credentialSecret'> {
  const used = flags.leaderElect === true || flags.credentialSecret !== undefined;
  if (!used) {
    for (const [flag, v] of [
      ['--lease-name', flags.leaseName],
      ['--namespace', flags.namespace],
    ] as const) {
      if (v !== undefined) problems.push(`${flag} needs --leader-elect or --credential-secret`);
    }
    return {};
  }
  if (flags.leaseName !== undefined && flags.leaderElect !== true) problems.push('--lease-name needs --leader-elect');
  let namespace = flags.namespace ?? (env.POD_NAMESPACE || undefined);
  if (namespace === undefined) {
    try {
      namespace = readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
    } catch {
      namespace = '';
    }
    if (namespace === '') {
      problems.push(
        '--namespace is required with --leader-elect or --credential-secret outside a pod (no $POD_NAMESPACE, no service account namespace)',
      );
      return {};
    }
  }
  if (!isDNS1123Label(namespace)) problems.push(`--namespace ${JSON.stringify(namespace)} is not a namespace name`);
  const leaseName = flags.leaseName ?? `kedge-agent-${edge}`;
  if (flags.leaderElect === true && !isDNS1123Subdomain(leaseName))
    problems.push(`--lease-name ${JSON.stringify(leaseName)} is not a valid Lease name`);
  const secret = flags.credentialSecret;
  if (secret !== undefined && !isDNS1123Subdomain(secret))
    problems.push(`--credential-secret ${JSON.stringify(secret)} is not a valid Secret name`);
  return {
    ...(flags.leaderElect === true ? { leaderElection: { namespace, leaseName } } : {}),
    ...(secret !== undefined ? { credentialSecret: { namespace, name: secret } } : {}),
  };
}

/** Flags that belong to the other mode: an error rather than silently ignored ($KUBECONFIG is only ignored). */
function modeFlagProblems(type: string, flags: AgentFlags): string[] {
  const given = (names: [string, unknown][]): string[] => names.filter(([, v]) => v !== undefined).map(([n]) => n);
  if (type === 'server') {
    return given([
      ['--kubeconfig', flags.kubeconfig],
      ['--context', flags.context],
      ['--resync-interval', flags.resyncInterval],
      ['--no-default-edge-rbac', flags.defaultEdgeRbac === false ? true : undefined],
      ['--leader-elect', flags.leaderElect],
      ['--lease-name', flags.leaseName],
      ['--credential-secret', flags.credentialSecret],
      ['--namespace', flags.namespace],
    ]).map((f) => `${f} is for --type kubernetes; a server edge has no Kubernetes (drop ${f})`);
  }
  if (type === 'kubernetes') {
    return given([
      ['--ssh-address', flags.sshAddress],
      ['--host-key-interval', flags.hostKeyInterval],
    ]).map((f) => `${f} is for --type server (drop it, or add --type server)`);
  }
  return [];
}

/** `host:port` or `[ipv6]:port` → the address; undefined when malformed. */
export function parseSshAddress(raw: string): SshAddress | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]@]+)):(\d{1,5})$/.exec(raw.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** `host:port` for logs and messages (IPv6 in brackets). */
export function formatSshAddress(a: SshAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function checkHubURL(raw: string | undefined, problems: string[]): string {
  if (raw === undefined || raw.trim() === '') {
    problems.push('--hub-url is required');
    return '';
  }
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    problems.push(`--hub-url ${JSON.stringify(raw)} is not a URL (expected e.g. https://hub.example.com:8443)`);
    return '';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    problems.push(`--hub-url must be https:// (got ${u.protocol})`);
  if (u.username !== '' || u.password !== '') problems.push('--hub-url must not carry credentials');
  if (u.search !== '' || u.hash !== '') problems.push('--hub-url must not have a query or fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** `…/services/agent-proxy/clusters/<lc>/apis/kedge.faros.sh/v1alpha1/edges/<edge>`: the base of all agent traffic. */
export function edgeBaseURL(cfg: Pick<AgentConfig, 'hubURL' | 'cluster' | 'edge'>): string {
  return `${cfg.hubURL}/services/agent-proxy/clusters/${cfg.cluster}/apis/kedge.faros.sh/v1alpha1/edges/${cfg.edge}`;
}
