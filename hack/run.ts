// `make run`: starts kcp and the hub for local use and prints exactly how to log in.
// Honours KEDGE_DATA_DIR, KEDGE_HUB_PORT, KEDGE_KCP_PORT and KEDGE_STATIC_TOKEN (generated and kept in the data
// dir when unset, so a second `make run` reuses data and token). Ctrl-C stops the hub, which stops kcp.
// The token reaches the hub through a 0600 file (--static-tokens-file), never its argv, where `ps` shows it to all.
// `make run-oidc` (KEDGE_RUN_DEX=1) also starts a local Dex (hack/dex/dex.sh, instance "run") and points the hub's
// --oidc-* flags at it, so `kedge login` can be tried with alice@example.com / password; Dex stops with the hub.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';

const dataDir = resolve(process.env.KEDGE_DATA_DIR ?? '.kedge');
const hubPort = process.env.KEDGE_HUB_PORT ?? '8443';
const kcpPort = process.env.KEDGE_KCP_PORT ?? '6443';
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

const tokenFile = join(dataDir, 'static-token');
let token = process.env.KEDGE_STATIC_TOKEN;
let generated = false;
if (!token) {
  if (existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
  else {
    token = randomBytes(24).toString('base64url');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    generated = true;
  }
}

// Rewritten each run (KEDGE_STATIC_TOKEN may differ). chmod an existing file first: `mode` applies only on create.
// static-token is what `kedge login --token-file` reads; static-tokens is the hub's --static-tokens-file.
const tokensFile = join(dataDir, 'static-tokens');
for (const f of [tokenFile, tokensFile]) if (existsSync(f)) chmodSync(f, 0o600);
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
writeFileSync(tokensFile, `# written by make run (hack/run.ts); one [name=]token per line\ndev=${token}\n`, {
  mode: 0o600,
});

const hubURL = `https://127.0.0.1:${hubPort}`;
const caFile = join(dataDir, 'pki', 'ca.crt');
const dexScript = new URL('dex/dex.sh', import.meta.url).pathname;
const dex = process.env.KEDGE_RUN_DEX === '1' ? startDex() : undefined;
const hub = spawn(
  process.execPath,
  [
    new URL('../bin/kedge-hub.js', import.meta.url).pathname,
    `--data-dir=${dataDir}`,
    `--port=${hubPort}`,
    `--kcp-port=${kcpPort}`,
    `--static-tokens-file=${tokensFile}`,
    ...(dex
      ? [`--oidc-issuer-url=${dex.issuer}`, `--oidc-client-id=${dex.clientID}`, `--oidc-ca-file=${dex.caFile}`]
      : []),
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, KEDGE_STATIC_TOKEN: '' } },
);
hub.on('exit', (code, signal) => {
  if (dex) spawnSync('bash', [dexScript, 'down', 'run'], { stdio: 'inherit' });
  process.exit(code ?? (signal ? 0 : 1));
});
process.on('SIGINT', () => {
  /* the hub received it too and shuts down; we exit when it does */
});
process.on('SIGTERM', () => hub.kill('SIGTERM'));

const deadline = Date.now() + 300_000;
for (;;) {
  if (Date.now() > deadline) {
    console.error(`kedge: the hub did not become ready within 5 minutes; see ${join(dataDir, 'kcp.log')}`);
    hub.kill('SIGTERM');
    break;
  }
  await new Promise((r) => setTimeout(r, 1000));
  if (!existsSync(caFile)) continue;
  try {
    const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } });
    const res = await request(`${hubURL}/readyz`, { dispatcher });
    await res.body.text();
    await dispatcher.close();
    if (res.statusCode === 200) break;
  } catch {
    /* not up yet */
  }
}

const repo = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const bin = join(process.env.KEDGE_CACHE ?? join(process.env.HOME ?? '', '.cache', 'kedge'), 'bin');
console.log(`
────────────────────────────────────────────────────────────────────────────
 Kedge hub is ready at ${hubURL}   (data: ${dataDir}${generated ? ', token generated' : ''})

 In another terminal (kubectl and the kcp plugins were built into ${bin}):
   export PATH="${repo}/bin:${bin}:$PATH"     # kedge, kubectl kedge, kubectl and kcp's plugins

 Log in (writes a "kedge" context into your kubeconfig):
   kedge login --hub-url ${hubURL} --token-file ${tokenFile} \\
     --certificate-authority ${caFile}
${
  dex
    ? `
 Or log in with OIDC through the local Dex (${dex.issuer}) as alice@example.com,
 bob@example.com or carol@example.com, password "password" (--device on a host without a browser):
   kedge login --hub-url ${hubURL} --certificate-authority ${caFile}
`
    : ''
}
 Then try:
   kubectl apply -f ${repo}/examples/virtualworkload-simple.yaml
   kubectl get virtualworkloads
   kubectl ws .

 Stop with Ctrl-C. Data and token are kept for the next 'make run'.
────────────────────────────────────────────────────────────────────────────
`);

/** Starts (or reuses) the Dex instance "run" and reads its issuer, client and CA from `dex.sh env`. */
function startDex(): { issuer: string; clientID: string; caFile: string } {
  const up = spawnSync('bash', [dexScript, 'up', 'run'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (up.status !== 0) {
    console.error('kedge: Dex did not start (build it with: bash hack/tools/build.sh dex)');
    process.exit(1);
  }
  const env = new Map<string, string>();
  const out = spawnSync('bash', [dexScript, 'env', 'run'], { encoding: 'utf8' }).stdout;
  for (const m of out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env.set(m[1] ?? '', m[2] ?? '');
  return {
    issuer: env.get('KEDGE_DEX_ISSUER') ?? '',
    clientID: env.get('KEDGE_DEX_CLI_CLIENT_ID') ?? '',
    caFile: env.get('KEDGE_DEX_CA_FILE') ?? '',
  };
}
