// Clients for the hub's agent-proxy: TLS settings from the flags, the join exchange, and transport-error wording.
import { readFileSync } from 'node:fs';
import { KubeClient } from '../../kube/client.ts';
import type { KubeClientOptions } from '../../kube/client.ts';
import { isApiError, isUnauthorized, transportCode } from '../../kube/api-error.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { edgeBaseURL } from '../options.ts';
import type { AgentConfig } from '../options.ts';
import { VERSION } from '../../version.ts';

export interface HubTLS {
  ca?: Buffer;
  insecureSkipTLSVerify: boolean;
}

export function hubTLS(cfg: Pick<AgentConfig, 'hubCAFile' | 'insecureSkipTLSVerify'>): HubTLS {
  let ca: Buffer | undefined;
  if (cfg.hubCAFile !== undefined) {
    try {
      ca = readFileSync(cfg.hubCAFile);
    } catch (cause) {
      throw new AgentError(AgentErrorCode.FlagsInvalid, `--hub-ca-file ${cfg.hubCAFile} cannot be read`, { cause });
    }
  }
  return { ca, insecureSkipTLSVerify: cfg.insecureSkipTLSVerify };
}

/** A client whose base URL is this edge's agent-proxy endpoint (`…/edges/<edge>`), authenticated with `token`. */
export function edgeClient(
  cfg: AgentConfig,
  tls: HubTLS,
  token: string,
  extra: Partial<KubeClientOptions> = {},
): KubeClient {
  return new KubeClient({
    server: edgeBaseURL(cfg),
    token,
    ca: tls.ca,
    insecureSkipTLSVerify: tls.insecureSkipTLSVerify,
    userAgent: `kedge-agent/${VERSION}`,
    ...extra,
  });
}

export interface JoinResponse {
  token: string;
  cluster: string;
  edge: string;
  hubURL?: string;
}

/** Exchanges the one-time join token for the edge credential (POST …/edges/<edge>/join). */
export async function join(cfg: AgentConfig, tls: HubTLS, joinToken: string): Promise<JoinResponse> {
  const client = edgeClient(cfg, tls, joinToken, { timeoutMs: 30_000 });
  try {
    const res = await client.request<Partial<JoinResponse>>('POST', '/join', { body: {} });
    if (typeof res?.token !== 'string' || res.token === '') {
      throw new AgentError(
        AgentErrorCode.HubUnreachable,
        `the hub's join answer has no credential (is ${cfg.hubURL} a Kedge hub?)`,
      );
    }
    return { token: res.token, cluster: res.cluster ?? cfg.cluster, edge: res.edge ?? cfg.edge, hubURL: res.hubURL };
  } catch (err) {
    if (isUnauthorized(err)) {
      throw new AgentError(
        AgentErrorCode.JoinRefused,
        `the hub refused the join token for edge ${cfg.edge} (wrong, expired or already used); get a new one with: kedge edge join-command ${cfg.edge}`,
        { cause: err },
      );
    }
    throw describeHubError(err, cfg);
  } finally {
    await client.close();
  }
}

/** Wraps any failure talking to the hub in an AgentError whose message says what to check. */
export function describeHubError(err: unknown, cfg: Pick<AgentConfig, 'hubURL' | 'edge' | 'cluster'>): AgentError {
  if (err instanceof AgentError) return err;
  if (isApiError(err)) {
    if (err.code === 404) {
      return new AgentError(
        AgentErrorCode.HubUnreachable,
        `the hub has no edge ${cfg.edge} in cluster ${cfg.cluster} (404); check --cluster/--edge or create the edge first`,
        { cause: err },
      );
    }
    return new AgentError(AgentErrorCode.HubUnreachable, `the hub answered ${err.code}: ${err.message}`, {
      cause: err,
    });
  }
  const code = transportCode(err);
  const hint =
    code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)
      ? "; pass the hub's CA with --hub-ca-file"
      : '';
  return new AgentError(
    AgentErrorCode.HubUnreachable,
    `cannot reach the hub at ${cfg.hubURL}: ${code ?? (err as Error)?.message ?? String(err)}${hint}`,
    { cause: err },
  );
}
