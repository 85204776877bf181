// Assembles a running hub: TLS, the HTTPS server, kcp (child process or external), bootstrap, then readiness.
// The server listens before kcp starts because kcp authenticates users by calling the hub's TokenReview webhook.
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { KubeClient, type KubeClientOptions } from '../kube/client.ts';
import { bootstrapUntilDone, type BootstrapResult } from './bootstrap/bootstrap.ts';
import { unionAuthenticator } from './auth/identity.ts';
import { staticTokenAuthenticator } from './auth/static-tokens.ts';
import { oidcAuthenticator, type OidcOptions } from './auth/oidc.ts';
import { loadStaticTokensFile } from './auth/static-tokens-file.ts';
import { tokenLoginHandler } from './auth/token-login.ts';
import { loginConfig, loginConfigHandler } from './auth/login-config.ts';
import { tokenReviewHandler } from './auth/tokenreview-webhook.ts';
import { startKcp, writeKcpAuthFiles, type KcpProcess } from './kcp/process.ts';
import { createMetrics } from './metrics.ts';
import { loadOrCreateSecrets, readTokenFile } from './secrets.ts';
import { loadExternalKcpKubeconfig } from './kcp/external.ts';
import { kcpProxyHandler } from './server/kcp-proxy.ts';
import { createHubServer } from './server/server.ts';
import { cachedCheck } from './server/readyz.ts';
import { kcpReadinessCheck, waitForKcpReady } from './kcp/probe.ts';
import { ensureTenant, type Tenant } from './tenancy/tenants.ts';
import { ShareReader, workspaceListHandler } from './tenancy/workspace-list.ts';
import {
  startControllerManager,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  type ControllerManager,
} from './controllers/manager.ts';
import { TunnelSignalApplier } from './controllers/edge-controller.ts';
import { createEdgeService, type EdgeService } from './edges/service.ts';
import { ensureDevPki } from './tls.ts';

export interface HubOptions {
  listenHost: string;
  port: number;
  /** URL users and agents reach the hub at; goes into kubeconfigs. */
  externalURL: string;
  dataDir: string;
  /** Serving certificate; when absent a development CA and certificate are generated in <dataDir>/pki. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  /** `[name=]token` specs given directly (the `--static-token` flag, `KEDGE_STATIC_TOKEN`). */
  staticTokens: string[];
  /** The token kcp's webhook kubeconfig presents, from a file (a mounted Secret); default: <dataDir>/secrets.json. */
  webhookTokenFile?: string;
  /** A file of `[name=]token` lines (src/hub/auth/static-tokens-file.ts); read at start, added to staticTokens. */
  staticTokensFile?: string;
  kcp:
    | { mode: 'child'; binary: string; port: number; rootDir?: string; unsafeNoFsync?: boolean }
    | { mode: 'external'; kubeconfig: string };
  /** Put insecure-skip-tls-verify into kubeconfigs the hub hands out (development only). */
  insecureKubeconfigs?: boolean;
  /** The controllers (src/hub/controllers/README.md) run after bootstrap under leader election unless `enabled` is false. */
  controllers?: { enabled?: boolean; failoverGraceMs?: number; heartbeatIntervalMs?: number };
  /** WebSocket ping interval of SSH sessions (default 20 s, src/api/ssh.ts); tests shorten it. */
  sshKeepAliveMs?: number;
  /** Accept ID tokens of this OIDC issuer besides the static tokens (src/hub/auth/oidc.ts). */
  oidc?: OidcOptions;
}

export interface Hub {
  url: string;
  caFile: string | undefined;
  bootstrapResult: Promise<BootstrapResult>;
  /** Resolves once bootstrap finished (readyz turns 200). Rejects if startup failed. */
  ready: Promise<void>;
  /** Set once bootstrap finished (undefined when disabled); the tunnel layer reports sessions through it. */
  readonly controllers: ControllerManager | undefined;
  /** Agent-proxy, edges-proxy and the tunnel registry (src/hub/edges); set once the kcp client exists. */
  readonly edges: EdgeService | undefined;
  stop(): Promise<void>;
}

export async function startHub(opts: HubOptions, log: Logger): Promise<Hub> {
  const tokenSpecs = [...opts.staticTokens];
  if (opts.staticTokensFile) {
    const file = loadStaticTokensFile(opts.staticTokensFile);
    for (const w of file.warnings) log.warn(w);
    tokenSpecs.push(...file.specs);
  }
  if (tokenSpecs.length === 0 && !opts.oidc)
    log.warn('no static tokens configured (--static-tokens-file) and no OIDC issuer: nobody can log in');
  const hostname = new URL(opts.externalURL).hostname;
  const pki = opts.tls ?? ensureDevPki(join(opts.dataDir, 'pki'), [...new Set(['127.0.0.1', 'localhost', hostname])]);
  const caFile = 'caFile' in pki ? pki.caFile : undefined;
  const secrets = loadOrCreateSecrets(join(opts.dataDir, 'secrets.json'));
  // The token kcp presents to the TokenReview webhook: the operator's file, else the one generated in the data dir.
  const webhookToken = opts.webhookTokenFile
    ? readTokenFile(opts.webhookTokenFile, '--kcp-webhook-token-file')
    : secrets.webhookToken;
  const authn = unionAuthenticator([
    staticTokenAuthenticator(tokenSpecs),
    ...(opts.oidc
      ? [oidcAuthenticator({ ...opts.oidc, onIssuerError: issuerErrorLogger(log, opts.oidc.issuerURL) })]
      : []),
  ]);
  const metrics = createMetrics();

  let kcpProcess: KcpProcess | undefined;
  let kcp: KubeClient | undefined;
  let kcpOptions: KubeClientOptions;
  let isReady = false;
  let proxy: ReturnType<typeof kcpProxyHandler> | undefined;
  let edges: EdgeService | undefined;
  let shares: ShareReader | undefined;
  const target = {
    hubURL: opts.externalURL.replace(/\/+$/, ''),
    ...(caFile ? { caPEM: readFileSync(caFile, 'utf8') } : {}),
    insecureSkipTLSVerify: !!opts.insecureKubeconfigs,
  };
  const stopping = new AbortController();
  const provisioning = new Map<string, Promise<Tenant>>();
  const ensure = (user: Parameters<typeof ensureTenant>[1]): Promise<Tenant> => {
    if (!kcp) throw new Error('kcp client not ready');
    // One provisioning per tenant at a time (concurrent logins share it). Nothing is kept afterwards: every
    // login re-checks the workspace, binding and role binding, so one deleted by hand is restored.
    let p = provisioning.get(user.tenant);
    if (!p) {
      p = ensureTenant(kcp, user, log.child({ component: 'tenancy' }), stopping.signal);
      provisioning.set(user.tenant, p);
      const forget = (): void => {
        provisioning.delete(user.tenant);
      };
      p.then(forget, forget);
    }
    return p;
  };

  const server = createHubServer(
    { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
    {
      isReady: () => isReady,
      readinessChecks: [cachedCheck(kcpReadinessCheck(() => kcp))],
      loginConfig: loginConfigHandler(loginConfig({ staticTokens: tokenSpecs.length > 0, oidc: opts.oidc })),
      tokenLogin: tokenLoginHandler(authn, ensure, target, log.child({ component: 'login' })),
      tokenReview: tokenReviewHandler(webhookToken, authn, log.child({ component: 'tokenreview' })),
      kcpProxy: (req, res) => proxy?.(req, res),
      workspaces: workspaceListHandler(authn, () => shares, log.child({ component: 'workspaces' })),
      agentProxy: (req, res) => edges?.agentProxy(req, res),
      agentProxyUpgrade: (req, socket, head) => edges?.agentProxyUpgrade(req, socket, head),
      edgesProxy: (req, res) => edges?.edgesProxy(req, res),
      edgesProxyUpgrade: (req, socket, head) => edges?.edgesProxyUpgrade(req, socket, head),
    },
    metrics,
    log.child({ component: 'server' }),
  );
  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `https://${opts.listenHost.includes(':') ? `[${opts.listenHost}]` : opts.listenHost}:${opts.port}`;
  log.info({ url, externalURL: opts.externalURL }, 'hub listening');

  if (opts.kcp.mode === 'child') {
    if (!caFile) throw new Error('a child kcp needs the hub CA file: pass --tls-ca-file with --tls-cert-file');
    const rootDir = opts.kcp.rootDir ?? join(opts.dataDir, 'kcp');
    const auth = writeKcpAuthFiles(join(opts.dataDir, 'kcp-auth'), {
      adminToken: secrets.kcpAdminToken,
      webhookURL: `https://127.0.0.1:${opts.port}/authn/tokenreview`,
      hubCAFile: caFile,
      webhookToken,
    });
    kcpProcess = await startKcp(
      {
        binary: opts.kcp.binary,
        rootDir,
        port: opts.kcp.port,
        auth,
        logFile: join(opts.dataDir, 'kcp.log'),
        unsafeNoFsync: !!opts.kcp.unsafeNoFsync,
      },
      log.child({ component: 'kcp' }),
    );
    kcpOptions = { server: kcpProcess.url, token: secrets.kcpAdminToken, ca: readFileSync(kcpProcess.caFile) };
  } else {
    kcpOptions = await loadExternalKcpKubeconfig(opts.kcp.kubeconfig, log.child({ component: 'kcp' }), {
      signal: stopping.signal,
    });
  }
  // The admin client works on the bare server URL; kcp kubeconfigs often point at /clusters/root.
  kcpOptions = { ...kcpOptions, server: baseURL(kcpOptions.server), userAgent: 'kedge-hub' };
  kcp = new KubeClient(kcpOptions);
  proxy = kcpProxyHandler(
    { kcpURL: kcpOptions.server, kcpCA: kcpOptions.ca },
    authn,
    log.child({ component: 'kcp-proxy' }),
  );
  shares = new ShareReader(kcp);

  // Tunnel up/down goes to the controllers' Edge lifecycle; with the controllers disabled it is applied directly.
  const heartbeatIntervalMs = opts.controllers?.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const admin = kcp; // narrowed: defined from here on
  const directSignals = new TunnelSignalApplier(
    () => Promise.resolve(admin),
    { heartbeatIntervalMs },
    log.child({ component: 'edge-tunnel' }),
  );
  edges = createEdgeService({
    admin,
    authn,
    hubURL: target.hubURL,
    metrics: metrics.edges,
    tunnelEvent: (cluster, edge, type, registered) =>
      controllers
        ? controllers.edgeTunnelEvent(cluster, edge, type, registered)
        : directSignals.apply(cluster, edge, type === 'Opened' ? { type } : { type, registered: registered ?? true }),
    ...(opts.sshKeepAliveMs ? { sshKeepAliveMs: opts.sshKeepAliveMs } : {}),
    log,
  });

  const bootstrapResult = waitForKcpReady(admin, log.child({ component: 'kcp' }), stopping.signal).then(() =>
    bootstrapUntilDone(admin, log.child({ component: 'bootstrap' }), stopping.signal),
  );
  let controllers: ControllerManager | undefined;
  const ready = bootstrapResult.then(() => {
    if (opts.controllers?.enabled !== false && !stopping.signal.aborted) {
      const { failoverGraceMs, heartbeatIntervalMs } = opts.controllers ?? {};
      controllers = startControllerManager(
        {
          kcp: admin,
          metrics: metrics.controllers,
          ...(failoverGraceMs !== undefined ? { failoverGraceMs } : {}),
          ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
        },
        log,
      );
    }
    isReady = true;
    log.info('hub ready');
  });
  ready.catch((err: unknown) => log.error({ err }, 'bootstrap failed'));

  return {
    url,
    caFile,
    bootstrapResult,
    ready,
    get controllers() {
      return controllers;
    },
    get edges() {
      return edges;
    },
    async stop() {
      isReady = false;
      stopping.abort(new Error('hub stopping'));
      await controllers?.stop();
      await edges?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Every connection is destroyed, HTTP/1.1, HTTP/2 and upgraded alike (tunnels, exec, port-forward are not HTTP
      // connections to Node): a peer that keeps one half open would hold server.close() forever. A stopping hub owes
      // no client a goodbye.
      for (const socket of sockets) socket.destroy();
      await closed;
      await kcp?.close();
      await kcpProcess?.stop();
    },
  };
}

function baseURL(server: string): string {
  const u = new URL(server);
  return `${u.protocol}//${u.host}`;
}

/** Logs an unreachable or failing OIDC issuer at most once a minute (every token would fail the same way). */
function issuerErrorLogger(log: Logger, issuer: string): (err: unknown) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    log.warn({ err, issuer }, 'the OIDC issuer failed (discovery or keys): ID tokens are refused until it answers');
  };
}
