// --leader-elect: several agent replicas (the Helm chart's DaemonSet or Deployment) campaign for one Lease in the
// local cluster; only its holder joins, holds the tunnel and reconciles. The moment the holder stops leading (its
// renewals failed past the renew deadline, or another replica took the Lease) it closes the tunnel and stops its
// work; on shutdown it stops first and then releases the Lease, so a standby takes over at once
// (src/kube/leader-election.ts; a crashed holder's Lease lapses after 15 s).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import type { LeaderElectionConfig } from '../kube/leader-election.ts';
import type { RunningAgent } from './wiring.ts';

/** This replica's candidate identity: the pod's name (or the host's) and a random suffix, as client-go does. */
export function candidateIdentity(env: { POD_NAME?: string } = process.env): string {
  return `${env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
}

export interface LeaderElectedOptions {
  /** Client on the local cluster, where the Lease lives. */
  local: KubeClient;
  lease: Pick<LeaderElectionConfig, 'namespace' | 'name'> & Partial<LeaderElectionConfig>;
  /** Starts the agent's work for one term as leader (join or reuse the credential, tunnel, reconciler). */
  start(): Promise<RunningAgent>;
  logger: Logger;
}

/**
 * Runs `start` only while this replica holds the Lease. `done` resolves when a term's agent ends by itself
 * (credential revoked) or cannot start (join refused, hub unreachable): the process exits as the unelected agent
 * would, and its Lease is released on `stop`.
 */
export function runLeaderElected(o: LeaderElectedOptions): RunningAgent {
  const identity = o.lease.identity ?? candidateIdentity();
  const log = o.logger; // the elector's own lines name the Lease and the identity
  const elector = new LeaderElector(o.local, { ...o.lease, identity }, log);
  const stopping = new AbortController();
  let resolveDone!: (e: Error) => void;
  const done = new Promise<Error>((r) => (resolveDone = r));

  const lead = async (term: AbortSignal): Promise<void> => {
    log.info({ identity, namespace: o.lease.namespace, name: o.lease.name }, 'leading: connecting to the hub');
    let agent: RunningAgent;
    try {
      agent = await o.start();
    } catch (err) {
      resolveDone(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const lost = new Promise<void>((resolve) => {
      if (term.aborted) resolve();
      else term.addEventListener('abort', () => resolve(), { once: true });
    });
    const ended = await Promise.race([agent.done, lost]);
    if (ended instanceof Error) resolveDone(ended);
    else log.info({ reason: (term.reason as Error | undefined)?.message }, 'no longer leading: closing the tunnel');
    await agent.stop();
  };
  log.info(
    { identity, namespace: o.lease.namespace, name: o.lease.name },
    'campaigning for the lease; only its holder connects to the hub',
  );
  const running = elector.run(lead, stopping.signal);

  return {
    done,
    stop: async () => {
      stopping.abort(new Error('stopping'));
      await running;
    },
  };
}
