// Wires one kubernetes-mode agent: credential (join once, then reuse), tunnel + k8s proxy, heartbeat, workload
// reconciler, and the credential guard that stops everything when the hub revokes the credential.
import type { Logger } from 'pino';
import { isUnauthorized } from '../kube/api-error.ts';
import { StreamKind } from '../tunnel/index.ts';
import { AgentError, AgentErrorCode } from './errors.ts';
import { Heartbeat } from './heartbeat.ts';
import { CredentialGuard } from './hub-client/credential-guard.ts';
import { loadCredential, saveCredential } from './hub-client/credential-store.ts';
import type { StoredCredential } from './hub-client/credential-store.ts';
import { describeHubError, edgeClient, hubTLS, join } from './hub-client/hub-client.ts';
import type { HubTLS } from './hub-client/hub-client.ts';
import { localClusterOptions, openLocalCluster } from './local-cluster.ts';
import { edgeBaseURL } from './options.ts';
import type { AgentConfig } from './options.ts';
import { K8sProxy } from './tunnel/k8s-proxy.ts';
import { startTunnel } from './tunnel/tunnel-client.ts';
import { WorkloadReconciler } from './workload/reconciler.ts';

export interface RunningAgent {
  /** Resolves when the agent ends by itself (credential revoked) with the reason; never rejects. */
  readonly done: Promise<AgentError>;
  stop(): Promise<void>;
}

/**
 * The credential to use: the stored one, else the join token exchanged for one (and stored). With both, the stored
 * one wins unless the hub refuses it (then the join token re-joins, e.g. after `kedge edge rotate-credentials`).
 */
export async function ensureCredential(cfg: AgentConfig, tls: HubTLS, log: Logger): Promise<StoredCredential> {
  const stored = loadCredential(cfg.stateDir, cfg);
  if (stored !== undefined && cfg.joinToken === undefined) return stored;
  if (stored !== undefined) {
    const probe = edgeClient(cfg, tls, stored.token, { timeoutMs: 30_000 });
    try {
      await probe.withServer(edgeBaseURL(cfg).replace(/\/[^/]+$/, '')).get(`/${cfg.edge}`);
      log.info('a stored credential exists and the hub accepts it; the join token is not used');
      return stored;
    } catch (err) {
      if (!isUnauthorized(err)) throw describeHubError(err, cfg);
      log.info('the stored credential was refused; joining with the join token');
    } finally {
      await probe.close();
    }
  }
  if (cfg.joinToken === undefined) {
    throw new AgentError(
      AgentErrorCode.NotJoined,
      `no credential in ${cfg.stateDir} and no --token: get a join command with: kedge edge join-command ${cfg.edge}`,
    );
  }
  const res = await join(cfg, tls, cfg.joinToken);
  const cred: StoredCredential = {
    token: res.token,
    cluster: cfg.cluster,
    edge: cfg.edge,
    hubURL: res.hubURL,
    joinedAt: new Date().toISOString(),
  };
  saveCredential(cfg.stateDir, cred);
  log.info({ stateDir: cfg.stateDir }, 'joined the hub; credential stored');
  return cred;
}

export async function startAgent(cfg: AgentConfig, logger: Logger): Promise<RunningAgent> {
  const log = logger.child({ edge: cfg.edge, cluster: cfg.cluster });
  const tls = hubTLS(cfg);
  const localOptions = await localClusterOptions(cfg.kubeconfig, cfg.context); // fail on a bad kubeconfig before joining
  const cred = await ensureCredential(cfg, tls, log);

  const local = openLocalCluster(localOptions);
  const hub = edgeClient(cfg, tls, cred.token);
  const edgeParent = hub.withServer(edgeBaseURL(cfg).replace(/\/[^/]+$/, ''));
  let resolveDone!: (e: AgentError) => void;
  const done = new Promise<AgentError>((r) => (resolveDone = r));
  const guard = new CredentialGuard({
    logger: log,
    verify: () => edgeParent.get(`/${cfg.edge}`),
    onRevoked: () =>
      resolveDone(
        new AgentError(
          AgentErrorCode.CredentialRevoked,
          `the hub no longer accepts this edge's credential (edge deleted or credential rotated); get a new join command with: kedge edge join-command ${cfg.edge}, then run the agent with --token`,
        ),
      ),
  });

  const proxy = new K8sProxy(local.target, log);
  const heartbeat = new Heartbeat({
    hub,
    local: local.client,
    intervalMs: cfg.heartbeatIntervalMs,
    logger: log,
    onError: (e) => guard.observe('heartbeat', e),
  });
  const tunnel = startTunnel({
    edgeBaseURL: edgeBaseURL(cfg),
    token: cred.token,
    tls,
    logger: log,
    config: { keepAliveIntervalMs: cfg.keepAliveIntervalMs, keepAliveTimeoutMs: cfg.keepAliveTimeoutMs },
    onStream: (stream, header) => {
      if (header.kind === StreamKind.K8s) proxy.handle(stream);
      else {
        log.debug({ kind: header.kind }, 'unsupported stream kind; reset');
        stream.destroy();
      }
    },
    onUnauthorized: () => guard.unauthorized('tunnel'),
    onConnected: () => void heartbeat.beat(),
  });
  const reconciler = new WorkloadReconciler({
    hub,
    local: local.client,
    ctx: { cluster: cfg.cluster, edge: cfg.edge },
    logger: log,
    resyncIntervalMs: cfg.resyncIntervalMs,
    onHubError: (e) => guard.observe('reconciler', e),
  });
  heartbeat.start();
  reconciler.start();
  log.info({ localCluster: local.describe, hub: cfg.hubURL }, 'agent started (kubernetes mode)');

  let stopping: Promise<void> | undefined;
  return {
    done,
    stop: () => {
      stopping ??= (async () => {
        guard.stop();
        heartbeat.stop();
        await tunnel.stop();
        await reconciler.stop();
        proxy.close();
        await Promise.allSettled([hub.close(), local.client.close()]);
      })();
      return stopping;
    },
  };
}
