// Starts the agent in the mode its config names. Each mode is imported only when chosen, so a server-mode agent
// never loads the Kubernetes client, the reconciler or the k8s proxy (and a kubernetes-mode one never loads ssh2).
import type { Logger } from 'pino';
import type { AgentConfig } from './options.ts';
import type { RunningAgent } from './wiring.ts';

export type { RunningAgent } from './wiring.ts';

export async function startAgent(cfg: AgentConfig, logger: Logger): Promise<RunningAgent> {
  if (cfg.type === 'server') {
    const { startServerAgent } = await import('./server/server-agent.ts');
    return startServerAgent(cfg, logger);
  }
  const { startKubernetesAgent } = await import('./kubernetes-agent.ts');
  return startKubernetesAgent(cfg, logger);
}
