// `kedge edge join-command` and `kedge edge rotate-credentials` (docs/agent-protocol.md §2–§3): a single-use join
// token whose SHA-256 goes into a Secret the user creates with their own rights; rotation deletes the edge's token
// Secret (the old credential stops working at once) and prints a fresh join command.
import { writeFileSync } from 'node:fs';
import { EdgeType } from '../api/constants.ts';
import { isAlreadyExists, isNotFound } from '../kube/api-error.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/types.ts';
import { DEFAULT_JOIN_TTL_MS, MAX_JOIN_TTL_MS, joinSecretManifest, newJoinToken } from '../api/join-token.ts';
import { EDGE_NAMESPACE, edgeSecretSelector, isEdgeTokenSecret, joinSecretName } from '../api/names.ts';
import { userClient, type ClientFlags } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { edgeCluster, edgePath, explain, type EdgeObject, type Print } from './edge-crud.ts';
import { agentUnitName } from './systemd-unit.ts';

export interface JoinFlags extends ClientFlags {
  /** Join-token validity in milliseconds (parsed by the command's --ttl option). */
  ttl?: number;
  /** Write the hub CA (from the kubeconfig) to this file and reference it in the command. */
  writeCa?: string;
  /** The kedge-agent chart in the printed `helm install`: a directory or a packaged .tgz. */
  chart?: string;
}

/** The chart's place in a checkout of the repository (or pass --chart with a packaged kedge-agent-<version>.tgz). */
export const DEFAULT_AGENT_CHART = 'deploy/charts/kedge-agent';
/** Namespace, release and join Secret of the printed Helm install. */
export const AGENT_HELM = { namespace: 'kedge-agent', release: 'kedge-agent', joinSecret: 'kedge-agent-join' } as const;

export interface JoinCommand {
  hubURL: string;
  cluster: string;
  edge: string;
  token: string;
  expiresAt: Date;
  /** `server` edges get the server-mode agent and its systemd unit instead of the Helm install. */
  type?: string;
  /** Server edges: the sshd port the agent relays to on the host. */
  sshPort?: number;
}

/** Creates a join token for `name` (replacing a previous one) and returns what the agent needs. */
export async function createJoinToken(
  client: KubeClient,
  hubURL: string,
  name: string,
  ttlMs: number,
): Promise<JoinCommand> {
  if (!(ttlMs > 0 && ttlMs <= MAX_JOIN_TTL_MS))
    throw new CLIError(CLIErrorCode.FlagsInvalid, '--ttl must be between 1s and 7d');
  const edge = await explain(client.get<EdgeObject>(edgePath(name)), name);
  const cluster = edgeCluster(edge);
  const token = newJoinToken();
  const expiresAt = new Date(Date.now() + ttlMs);
  await client
    .create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: EDGE_NAMESPACE } })
    .catch((err: unknown) => (isAlreadyExists(err) ? undefined : explain(Promise.reject(err), '')));
  const secrets = `/api/v1/namespaces/${EDGE_NAMESPACE}/secrets`;
  await client.delete(`${secrets}/${joinSecretName(name)}`).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
  const manifest = joinSecretManifest({ name, uid: edge.metadata.uid ?? '' }, token, expiresAt);
  await explain(client.create(secrets, manifest), '');
  return {
    hubURL,
    cluster,
    edge: name,
    token,
    expiresAt,
    ...(edge.spec?.type ? { type: edge.spec.type } : {}),
    ...(edge.spec?.server?.sshPort !== undefined ? { sshPort: edge.spec.server.sshPort } : {}),
  };
}

export function formatJoinCommand(
  j: JoinCommand,
  caFile: string | undefined,
  chart: string = DEFAULT_AGENT_CHART,
): string[] {
  const ca = caFile ? ` --hub-ca-file ${caFile}` : '';
  const flags = `--hub-url ${j.hubURL} --cluster ${j.cluster} --edge ${j.edge} --token ${j.token}`;
  const { namespace: ns, release, joinSecret: secret } = AGENT_HELM;
  if (j.type === EdgeType.Server)
    return [
      `Join token for server edge ${j.edge} (single use, valid until ${j.expiresAt.toISOString()}). On the host, as an unprivileged user, run:`,
      '',
      `  kedge agent join ${flags} --type server${ca}`,
      '',
      'or, with the standalone agent:',
      '',
      `  kedge-agent ${flags} --type server${ca}`,
      '',
      'or as a systemd service (as root; the token goes into a 0600 file, not onto a command line; docs/ssh.md):',
      '',
      `  (umask 077; printf '%s\\n' '${j.token}' > join-token)`,
      `  sudo kedge agent install --hub-url ${j.hubURL} --cluster ${j.cluster} --edge ${j.edge} --token-file join-token${ca}`,
      `  sudo systemctl daemon-reload && sudo systemctl enable --now ${agentUnitName(j.edge)}`,
      '',
      `The agent relays SSH sessions to sshd at 127.0.0.1:${j.sshPort ?? 22} on that host; no port is opened to the outside.`,
      `Then: kedge ssh ${j.edge}`,
    ];
  return [
    `Join token for edge ${j.edge} (single use, valid until ${j.expiresAt.toISOString()}). On the edge, run:`,
    '',
    `  kedge agent join ${flags}${ca}`,
    '',
    'or install it into the edge cluster with Helm (pods elect one tunnel holder; the token goes into a Secret, not',
    'onto a command line; the credential it is exchanged for is kept in a Secret; deploy/charts/kedge-agent/README.md):',
    '',
    `  kubectl create namespace ${ns}`,
    `  printf '%s' '${j.token}' | kubectl -n ${ns} create secret generic ${secret} --from-file=token=/dev/stdin`,
    `  helm install ${release} ${chart} -n ${ns} --set hub.url=${j.hubURL} --set edge.cluster=${j.cluster} --set edge.name=${j.edge} --set joinToken.existingSecret=${secret}${caFile ? ` --set-file hub.ca=${caFile}` : ''}`,
  ];
}

export async function joinCommand(name: string, flags: JoinFlags, print: Print): Promise<JoinCommand> {
  const u = await userClient(flags);
  const ttl = flags.ttl ?? DEFAULT_JOIN_TTL_MS;
  const j = await createJoinToken(u.client, u.hubURL, name, ttl);
  for (const line of formatJoinCommand(j, writeCA(u.options.ca, flags.writeCa, print), flags.chart)) print(line);
  return j;
}

export async function rotateCredentials(name: string, flags: JoinFlags, print: Print): Promise<JoinCommand> {
  const u = await userClient(flags);
  await explain(u.client.get(edgePath(name)), name);
  const secrets = await explain(
    u.client.list<KubeObject & { type?: string }>(`/api/v1/namespaces/${EDGE_NAMESPACE}/secrets`, {
      labelSelector: edgeSecretSelector(name),
    }),
    '',
  );
  const current = secrets.items.filter((s) => isEdgeTokenSecret(s, name));
  for (const s of current) {
    await u.client
      .delete(`/api/v1/namespaces/${EDGE_NAMESPACE}/secrets/${s.metadata.name ?? ''}`)
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  }
  print(
    current.length > 0
      ? `The credential of edge ${name} is revoked (the hub refuses it within 30 s and disconnects its agent).`
      : `Edge ${name} had no credential yet.`,
  );
  const ttl = flags.ttl ?? DEFAULT_JOIN_TTL_MS;
  const j = await createJoinToken(u.client, u.hubURL, name, ttl);
  for (const line of formatJoinCommand(j, writeCA(u.options.ca, flags.writeCa, print), flags.chart)) print(line);
  return j;
}

function writeCA(ca: string | Buffer | undefined, file: string | undefined, print: Print): string | undefined {
  if (file === undefined) {
    if (ca !== undefined)
      print('(The hub uses a private CA: add --write-ca hub-ca.crt to save it, then copy it to the edge.)\n');
    return undefined;
  }
  if (ca === undefined)
    throw new CLIError(
      CLIErrorCode.NotApplicable,
      '--write-ca: your kubeconfig has no CA for the hub (it uses a public certificate)',
    );
  writeFileSync(file, ca);
  return file;
}
