// Kubernetes mode: the local cluster behind the shared wiring (wiring.ts): `k8s` streams go to the K8sProxy, the
// WorkloadReconciler applies this edge's Placements, and the heartbeat adds the local Kubernetes version. At start
// (and on each tunnel connect until it succeeds) the default edge RBAC for callers through the hub is created if
// absent (edge-rbac.ts), unless --no-default-edge-rbac. In a pod, the credential can live in a Secret
// (--credential-secret, hub-client/credential-secret.ts) and several replicas elect one tunnel holder
// (--leader-elect, leader-elected.ts).
import type { Logger } from 'pino';
import { KubeClient } from '../kube/client.ts';
import type { KubeClientOptions } from '../kube/client.ts';
import { VERSION } from '../version.ts';
import { secretCredentialStore } from './hub-client/credential-secret.ts';
import type { CredentialStore } from './hub-client/credential-store.ts';
import { runLeaderElected } from './leader-elected.ts';
import { StreamKind } from '../tunnel/index.ts';
import { ensureDefaultEdgeRbac } from './edge-rbac.ts';
import { kubernetesFacts } from './facts.ts';
import { localClusterOptions, openLocalCluster } from './local-cluster.ts';
import type { KubernetesAgentConfig } from './options.ts';
import { K8sProxy } from './tunnel/k8s-proxy.ts';
import { startEdgeAgent } from './wiring.ts';
import type { AgentMode, ModeContext, RunningAgent } from './wiring.ts';
import { WorkloadReconciler } from './workload/reconciler.ts';

export async function startKubernetesAgent(cfg: KubernetesAgentConfig, logger: Logger): Promise<RunningAgent> {
  const localOptions = await localClusterOptions(cfg.kubeconfig, cfg.context); // fail on a bad kubeconfig before joining
  if (cfg.leaderElection === undefined && cfg.credentialSecret === undefined)
    return startKubernetesMode(cfg, logger, localOptions);
  // The agent's own objects in the local cluster (Lease, credential Secret), on a client of their own.
  const own = new KubeClient({ ...localOptions, userAgent: `kedge-agent/${VERSION}` });
  const store = cfg.credentialSecret && secretCredentialStore(own, cfg.credentialSecret, cfg);
  const running =
    cfg.leaderElection === undefined
      ? await startKubernetesMode(cfg, logger, localOptions, store).catch(async (err: unknown) => {
          await own.close();
          throw err;
        })
      : runLeaderElected({
          local: own,
          lease: { namespace: cfg.leaderElection.namespace, name: cfg.leaderElection.leaseName },
          start: () => startKubernetesMode(cfg, logger, localOptions, store),
          logger: logger.child({ edge: cfg.edge, cluster: cfg.cluster }),
        });
  return {
    done: running.done,
    stop: async () => {
      await running.stop();
      await own.close();
    },
  };
}

function startKubernetesMode(
  cfg: KubernetesAgentConfig,
  logger: Logger,
  localOptions: KubeClientOptions,
  store?: CredentialStore,
): Promise<RunningAgent> {
  const mode = ({ log, hub, observeHubError }: ModeContext): AgentMode => {
    const local = openLocalCluster(localOptions);
    const proxy = new K8sProxy(local.target, log);
    const reconciler = new WorkloadReconciler({
      hub,
      local: local.client,
      ctx: { cluster: cfg.cluster, edge: cfg.edge },
      logger: log,
      resyncIntervalMs: cfg.resyncIntervalMs,
      onHubError: (e) => observeHubError('reconciler', e),
    });
    let rbacDone = !cfg.defaultEdgeRbac;
    const ensureRbac = async (): Promise<void> => {
      if (rbacDone) return;
      try {
        await ensureDefaultEdgeRbac(local.client, log);
        rbacDone = true;
      } catch (err) {
        log.warn({ err }, 'creating the default edge RBAC failed (retried on the next tunnel connect)');
      }
    };
    return {
      describe: { localCluster: local.describe },
      facts: kubernetesFacts(local.client, log),
      onStream: (stream, header) => {
        if (header.kind === StreamKind.K8s) proxy.handle(stream);
        else {
          log.debug({ kind: header.kind }, 'unsupported stream kind; reset');
          stream.destroy();
        }
      },
      start: async () => {
        await ensureRbac();
        reconciler.start();
      },
      onConnected: () => void ensureRbac(),
      stop: async () => {
        await reconciler.stop();
        proxy.close();
        await local.client.close();
      },
    };
  };
  return startEdgeAgent(cfg, logger, mode, store);
}
