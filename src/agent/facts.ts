// The facts every agent reports (hostname, agent version) and kubernetes mode's addition: the local cluster's
// version, asked for at each heartbeat (the last known one is kept when the local API server does not answer).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { VERSION } from '../version.ts';
import type { EdgeFacts, FactsProvider } from './heartbeat.ts';

export function baseFacts(): EdgeFacts {
  return { hostname: hostname(), agentVersion: VERSION };
}

export function kubernetesFacts(local: KubeClient, logger: Logger): FactsProvider {
  let kubernetesVersion: string | undefined;
  return async () => {
    try {
      const v = await local.request<{ gitVersion?: string }>('GET', '/version', { timeoutMs: 5_000 });
      if (typeof v?.gitVersion === 'string') kubernetesVersion = v.gitVersion;
    } catch (err) {
      logger.debug({ err }, 'local /version failed; reporting the last known version');
    }
    const facts = baseFacts();
    if (kubernetesVersion !== undefined) facts.kubernetesVersion = kubernetesVersion;
    return facts;
  };
}
