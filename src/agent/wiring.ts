// What every agent mode shares: the credential (join once, then reuse; a file or a Secret: credential-store.ts), the hub client, the tunnel, the heartbeat and
// the credential guard that stops everything when the hub revokes the credential. A mode (kubernetes-agent.ts,
// server/server-agent.ts) adds its stream handler, its facts and whatever it runs beside them.
import type { Logger } from 'pino';
import type { Edge } from '../api/types.ts';
import { isUnauthorized } from '../kube/api-error.ts';
import type { KubeClient } from '../kube/client.ts';
import type { StreamHandler } from '../tunnel/index.ts';
import { AgentError, AgentErrorCode } from './errors.ts';
import { Heartbeat } from './heartbeat.ts';
import type { FactsProvider } from './heartbeat.ts';
import { CredentialGuard } from './hub-client/credential-guard.ts';
import { fileCredentialStore } from './hub-client/credential-store.ts';
import type { CredentialStore, StoredCredential } from './hub-client/credential-store.ts';
import { describeHubError, edgeClient, hubTLS, join } from './hub-client/hub-client.ts';
import type { HubTLS } from './hub-client/hub-client.ts';
import { edgeBaseURL } from './options.ts';
import type { AgentConfig } from './options.ts';
import { startTunnel } from './tunnel/tunnel-client.ts';

export interface RunningAgent {
  /**
   * Resolves when the agent ends by itself with the reason (an AgentError: credential revoked; with --leader-elect
   * also a term's start failing); never rejects.
   */
  readonly done: Promise<Error>;
  stop(): Promise<void>;
}

/** What a mode gets from the shared wiring. */
export interface ModeContext {
  log: Logger;
  /** Client on `…/edges/<edge>` (the agent-proxy), authenticated with the edge credential. */
  hub: KubeClient;
  /** GET of this Edge with the edge credential (a 401 is reported to the guard). */
  getEdge(): Promise<Edge>;
  /** Sends a heartbeat now (e.g. the mode's facts changed); never throws. */
  beat(): void;
  /** Reports an error from a hub call: a 401 starts the credential check. */
  observeHubError(source: string, err: unknown): void;
}

export interface AgentMode {
  /** For the "agent started" log line. */
  describe: Record<string, unknown>;
  facts: FactsProvider;
  onStream: StreamHandler;
  /** Runs before the heartbeat and the tunnel start (e.g. a first scan whose result the first heartbeat carries). */
  start?(): Promise<void> | void;
  /** Each time the tunnel is up again (after the heartbeat it triggers). */
  onConnected?(): void;
  stop(): Promise<void>;
}

/**
 * The credential to use: the stored one, else the join token exchanged for one (and stored). With both, the stored
 * one wins unless the hub refuses it with 401 (then the join token re-joins, e.g. after `kedge edge
 * rotate-credentials`); when the hub cannot be asked, the stored one is used.
 */
export async function ensureCredential(
  cfg: AgentConfig,
  tls: HubTLS,
  log: Logger,
  store: CredentialStore,
): Promise<StoredCredential> {
  const stored = await store.load();
  if (stored !== undefined && cfg.joinToken === undefined) return stored;
  if (stored !== undefined) {
    const probe = edgeClient(cfg, tls, stored.token, { timeoutMs: 30_000 });
    try {
      await edgeParent(probe, cfg).get(`/${cfg.edge}`);
      log.info('a stored credential exists and the hub accepts it; the join token is not used');
      return stored;
    } catch (err) {
      if (!isUnauthorized(err)) {
        // Only a refusal means the credential is spent. A hub that is down or failing must not stop an agent that
        // has a credential (a pod restarted during an outage would crash-loop): start, the tunnel retries.
        log.warn({ err: describeHubError(err, cfg).message }, 'cannot check the stored credential now; using it');
        return stored;
      }
      log.info('the stored credential was refused; joining with the join token');
    } finally {
      await probe.close();
    }
  }
  if (cfg.joinToken === undefined) {
    throw new AgentError(
      AgentErrorCode.NotJoined,
      `no credential in ${store.where} and no --token: get a join command with: kedge edge join-command ${cfg.edge}`,
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
  await store.save(cred);
  log.info({ store: store.where }, 'joined the hub; credential stored');
  return cred;
}

/** `…/edges`: GET `/<edge>` there reads the Edge itself (the agent-proxy allows it with the edge credential). */
function edgeParent(client: KubeClient, cfg: AgentConfig): KubeClient {
  return client.withServer(edgeBaseURL(cfg).replace(/\/[^/]+$/, ''));
}

/**
 * Joins (or reuses the credential), then runs the mode made by `makeMode` with the shared parts around it.
 * `makeMode` is called after the credential is known; whatever must fail before joining belongs before this call.
 */
export async function startEdgeAgent<C extends AgentConfig>(
  cfg: C,
  logger: Logger,
  makeMode: (ctx: ModeContext) => AgentMode | Promise<AgentMode>,
  store: CredentialStore = fileCredentialStore(cfg.stateDir, cfg),
): Promise<RunningAgent> {
  const log = logger.child({ edge: cfg.edge, cluster: cfg.cluster });
  const tls = hubTLS(cfg);
  const cred = await ensureCredential(cfg, tls, log, store);

  const hub = edgeClient(cfg, tls, cred.token);
  const parent = edgeParent(hub, cfg);
  let resolveDone!: (e: Error) => void;
  const done = new Promise<Error>((r) => (resolveDone = r));
  const guard = new CredentialGuard({
    logger: log,
    verify: () => parent.get(`/${cfg.edge}`),
    onRevoked: () =>
      resolveDone(
        new AgentError(
          AgentErrorCode.CredentialRevoked,
          `the hub no longer accepts this edge's credential (edge deleted or credential rotated); get a new join command with: kedge edge join-command ${cfg.edge}, then run the agent with --token`,
        ),
      ),
  });

  // The heartbeat needs the mode's facts and the mode may need the heartbeat: bound late through this holder.
  let heartbeat: Heartbeat | undefined;
  const ctx: ModeContext = {
    log,
    hub,
    getEdge: async () => {
      try {
        return (await parent.get(`/${cfg.edge}`)) as unknown as Edge;
      } catch (err) {
        guard.observe('edge', err);
        throw err;
      }
    },
    beat: () => void heartbeat?.beat(),
    observeHubError: (source, err) => guard.observe(source, err),
  };
  let mode: AgentMode;
  try {
    mode = await makeMode(ctx);
  } catch (err) {
    await hub.close();
    throw err;
  }
  heartbeat = new Heartbeat({
    hub,
    facts: mode.facts,
    intervalMs: cfg.heartbeatIntervalMs,
    logger: log,
    onError: (e) => guard.observe('heartbeat', e),
  });
  try {
    await mode.start?.();
  } catch (err) {
    await mode.stop();
    await hub.close();
    throw err;
  }
  heartbeat.start();
  const tunnel = startTunnel({
    edgeBaseURL: edgeBaseURL(cfg),
    token: cred.token,
    tls,
    logger: log,
    config: { keepAliveIntervalMs: cfg.keepAliveIntervalMs, keepAliveTimeoutMs: cfg.keepAliveTimeoutMs },
    onStream: mode.onStream,
    onUnauthorized: () => guard.unauthorized('tunnel'),
    onConnected: () => {
      void heartbeat.beat();
      mode.onConnected?.();
    },
  });
  log.info({ ...mode.describe, hub: cfg.hubURL }, `agent started (${cfg.type} mode)`);

  let stopping: Promise<void> | undefined;
  return {
    done,
    stop: () => {
      stopping ??= (async () => {
        guard.stop();
        heartbeat.stop();
        await tunnel.stop();
        await mode.stop();
        await hub.close();
      })();
      return stopping;
    },
  };
}
