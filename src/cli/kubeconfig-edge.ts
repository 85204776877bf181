// `kedge kubeconfig edge <name>`: a kubeconfig for kubectl against one edge's Kubernetes API through the hub's
// edges-proxy (…/edges/<name>/k8s), with the user's own credential and the hub CA from the "kedge" context: the same
// exec plugin when the context has one (`kedge get-token` after an OIDC login: no short-lived token is written out),
// else its bearer token.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { GROUP, VERSION } from '../api/constants.ts';
import { userClient, type ClientFlags } from './client.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { edgeCluster, edgePath, explain, type EdgeObject, type Print } from './edge-crud.ts';

export function edgeKubeconfig(opts: {
  name: string;
  server: string;
  /** A bearer token, or an exec plugin stanza copied from the user's context. */
  credential: { token: string } | { exec: Record<string, unknown> };
  ca?: string | Buffer;
  insecure?: boolean;
}): string {
  const cluster: Record<string, unknown> = { server: opts.server };
  if (opts.ca !== undefined) cluster['certificate-authority-data'] = Buffer.from(opts.ca).toString('base64');
  if (opts.insecure) cluster['insecure-skip-tls-verify'] = true;
  const ctx = `kedge-edge-${opts.name}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: ctx, cluster }],
    users: [{ name: ctx, user: opts.credential }],
    contexts: [{ name: ctx, context: { cluster: ctx, user: ctx } }],
    'current-context': ctx,
  });
}

export async function kubeconfigEdge(
  name: string,
  flags: ClientFlags & { output?: string },
  print: Print,
): Promise<void> {
  const u = await userClient(flags);
  const edge = await explain(u.client.get<EdgeObject>(edgePath(name)), name);
  if (edge.spec?.type === 'server')
    throw new CLIError(
      CLIErrorCode.NotApplicable,
      `edge ${name} is a server edge (no Kubernetes API): use 'kedge ssh ${name}'`,
    );
  if (!u.exec && !u.token)
    throw new CLIError(
      CLIErrorCode.NotLoggedIn,
      "your kubeconfig context has no bearer token: run 'kedge login' again",
    );
  const server = `${u.hubURL}/services/edges-proxy/clusters/${edgeCluster(edge)}/apis/${GROUP}/${VERSION}/edges/${name}/k8s`;
  const text = edgeKubeconfig({
    name,
    server,
    credential: u.exec ? { exec: u.exec } : { token: u.token ?? '' },
    ...(u.options.ca ? { ca: u.options.ca } : {}),
    insecure: u.options.insecureSkipTLSVerify === true,
  });
  if (flags.output) {
    writeFileSync(flags.output, text, { mode: 0o600 });
    print(`wrote ${flags.output}: kubectl --kubeconfig ${flags.output} get nodes`);
  } else {
    print(text.trimEnd());
  }
}
