// kedge-hub: command-line entry of the hub. Parses flags, starts the hub, stops it cleanly on SIGINT/SIGTERM.
import { Command, Option, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isKedgeError } from '../api/errors.ts';
import { durationArg } from '../util/duration.ts';
import { createLogger } from '../util/logger.ts';
import { VERSION } from '../version.ts';
import { OIDC_MAX_CLOCK_SKEW_SEC } from './auth/oidc.ts';
import { startHub, type HubOptions } from './hub.ts';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number 1-65535');
  return n;
}
/** A duration that may be zero (no skew at all), at most OIDC_MAX_CLOCK_SKEW_SEC. */
function skewArg(v: string): number {
  const ms = /^0+(\.0*)?(ms|s|m|h|d)?$/.test(v.trim()) ? 0 : durationArg(v);
  if (ms > OIDC_MAX_CLOCK_SKEW_SEC * 1000)
    throw new InvalidArgumentError(
      `must be at most ${OIDC_MAX_CLOCK_SKEW_SEC / 60}m: tokens would outlive their expiry`,
    );
  return ms;
}
function collect(v: string, prev: string[]): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

const defaultCache = process.env.KEDGE_CACHE ?? join(homedir(), '.cache', 'kedge');
const program = new Command('kedge-hub')
  .description(
    'Kedge hub: multi-tenant control plane on kcp. Serves users (kubectl through /clusters/…), agents and the kcp TokenReview webhook on one HTTPS port.',
  )
  .version(VERSION)
  .option('--listen-host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'HTTPS port', port, Number(process.env.KEDGE_HUB_PORT ?? 8443))
  .option('--external-url <url>', 'URL clients use to reach the hub (default https://<listen-host>:<port>)')
  .option(
    '--data-dir <dir>',
    'hub state: development CA, generated secrets, child kcp data',
    process.env.KEDGE_DATA_DIR ?? '.kedge',
  )
  .option(
    '--static-tokens-file <file>',
    'file of user tokens, one [name=]token per line (# comments); each token is one tenant named <name> or t-<hash>; must not be world-readable',
    process.env.KEDGE_STATIC_TOKENS_FILE,
  )
  .option(
    '--static-token <[name=]token>',
    'DISCOURAGED, visible to every local user in ps: a user token (repeatable or comma-separated); use --static-tokens-file',
    collect,
    [] as string[],
  )
  .option('--tls-cert-file <file>', 'serving certificate (default: a generated development CA signs one)')
  .option('--tls-key-file <file>', 'serving key')
  .option('--tls-ca-file <file>', 'CA of the serving certificate, put into kubeconfigs and trusted by a child kcp')
  .option('--kcp-kubeconfig <file>', 'use an external kcp with this admin kubeconfig instead of starting one')
  .option(
    '--kcp-webhook-token-file <file>',
    "file with the token kcp presents to the hub's TokenReview webhook (e.g. a mounted Secret; default: generated into <data-dir>/secrets.json)",
    process.env.KEDGE_KCP_WEBHOOK_TOKEN_FILE,
  )
  .option('--kcp-binary <file>', 'kcp binary to run as a child process', join(defaultCache, 'bin', 'kcp'))
  .option('--kcp-data-dir <dir>', "child kcp's root directory (default <data-dir>/kcp)")
  .option('--kcp-port <port>', 'child kcp secure port', port, Number(process.env.KEDGE_KCP_PORT ?? 6443))
  .addOption(
    new Option(
      '--failover-grace <duration>',
      'how long a Singleton workload waits for its disconnected edge before moving',
    )
      .argParser(durationArg)
      .default(5 * 60_000, '5m'),
  )
  .addOption(
    new Option(
      '--heartbeat-interval <duration>',
      "agents' heartbeat interval; an edge is Disconnected after 3 missed heartbeats",
    )
      .argParser(durationArg)
      .default(30_000, '30s'),
  )
  .option(
    '--oidc-issuer-url <url>',
    "accept ID tokens of this OIDC issuer (exactly its tokens' iss, https); its keys (JWKS) are cached and fetched again when a token names an unknown key id, at most every 10s, so a key rotation needs no restart (docs/oidc.md)",
  )
  .option('--oidc-client-id <id>', 'the audience (aud) those ID tokens must carry: the client ID users log in with')
  .option('--oidc-ca-file <file>', "CA of the issuer's certificate (default: the system roots)")
  .option('--oidc-username-claim <claim>', 'claim that names the user (email requires email_verified)', 'email')
  .option('--oidc-groups-claim <claim>', "claim with the user's groups", 'groups')
  .option('--oidc-prefix <prefix>', 'prefix of OIDC user and group names', 'kedge:oidc:')
  .addOption(
    new Option(
      '--oidc-clock-skew <duration>',
      `clock difference to the issuer tolerated on exp and nbf of ID tokens (0 to ${OIDC_MAX_CLOCK_SKEW_SEC / 60}m)`,
    )
      .argParser(skewArg)
      .default(30_000, '30s'),
  )
  .option('--no-controllers', 'do not run the scheduler, status and edge lifecycle controllers in this process')
  .addOption(
    new Option('--insecure-kubeconfigs', 'hand out kubeconfigs with insecure-skip-tls-verify (development only)'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  );

program.parse();
const o = program.opts<{
  listenHost: string;
  port: number;
  externalUrl?: string;
  dataDir: string;
  staticToken: string[];
  staticTokensFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsCaFile?: string;
  kcpKubeconfig?: string;
  kcpWebhookTokenFile?: string;
  kcpBinary: string;
  kcpDataDir?: string;
  kcpPort: number;
  insecureKubeconfigs?: boolean;
  logLevel: string;
  failoverGrace: number;
  heartbeatInterval: number;
  controllers: boolean;
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  oidcCaFile?: string;
  oidcUsernameClaim: string;
  oidcGroupsClaim: string;
  oidcPrefix: string;
  oidcClockSkew: number;
}>();
if (!!o.tlsCertFile !== !!o.tlsKeyFile) program.error('--tls-cert-file and --tls-key-file go together');
if (!!o.oidcIssuerUrl !== !!o.oidcClientId) program.error('--oidc-issuer-url and --oidc-client-id go together');
const tokens = [...o.staticToken, ...(process.env.KEDGE_STATIC_TOKEN ? [process.env.KEDGE_STATIC_TOKEN] : [])];
const dataDir = resolve(o.dataDir);
const opts: HubOptions = {
  listenHost: o.listenHost,
  port: o.port,
  externalURL: o.externalUrl ?? `https://${o.listenHost === '0.0.0.0' ? '127.0.0.1' : o.listenHost}:${o.port}`,
  dataDir,
  staticTokens: tokens,
  ...(o.staticTokensFile ? { staticTokensFile: resolve(o.staticTokensFile) } : {}),
  ...(o.kcpWebhookTokenFile ? { webhookTokenFile: resolve(o.kcpWebhookTokenFile) } : {}),
  ...(o.tlsCertFile && o.tlsKeyFile
    ? { tls: { certFile: o.tlsCertFile, keyFile: o.tlsKeyFile, ...(o.tlsCaFile ? { caFile: o.tlsCaFile } : {}) } }
    : {}),
  kcp: o.kcpKubeconfig
    ? { mode: 'external', kubeconfig: o.kcpKubeconfig }
    : { mode: 'child', binary: o.kcpBinary, port: o.kcpPort, rootDir: resolve(o.kcpDataDir ?? join(dataDir, 'kcp')) },
  insecureKubeconfigs: !!o.insecureKubeconfigs,
  controllers: { enabled: o.controllers, failoverGraceMs: o.failoverGrace, heartbeatIntervalMs: o.heartbeatInterval },
  ...(o.oidcIssuerUrl && o.oidcClientId
    ? {
        oidc: {
          issuerURL: o.oidcIssuerUrl,
          clientID: o.oidcClientId,
          ...(o.oidcCaFile ? { ca: readFileSync(o.oidcCaFile) } : {}),
          usernameClaim: o.oidcUsernameClaim,
          groupsClaim: o.oidcGroupsClaim,
          prefix: o.oidcPrefix,
          clockToleranceSec: o.oidcClockSkew / 1000,
        },
      }
    : {}),
};

const log = createLogger('kedge-hub', o.logLevel);
if (o.staticToken.length > 0)
  log.warn(
    '--static-token puts tokens on the command line, where every local user can read them with ps; use --static-tokens-file',
  );
let hub: Awaited<ReturnType<typeof startHub>> | undefined;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) process.exit(1); // a second Ctrl-C forces exit
  stopping = true;
  log.info({ signal }, 'stopping');
  await hub?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  hub = await startHub(opts, log);
  await hub.ready;
} catch (err) {
  // A coded error (bad tokens file, …) is the operator's to fix: say it in one line, no stack.
  if (isKedgeError(err)) log.error({ code: err.code }, `hub failed to start: ${err.message}`);
  else log.error({ err }, 'hub failed to start');
  await hub?.stop();
  process.exit(1);
}
