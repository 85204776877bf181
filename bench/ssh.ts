// SSH through the hub vs straight to sshd, side by side in one run (issue 8): (1) `scp` of 256 MiB, via the hub
// (OpenSSH with `kedge ssh --proxy` as ProxyCommand, from `kedge ssh-config`) and direct, interleaved; (2) keystroke
// echo round trip in a PTY (`ssh -tt`, the remote tty raw, `cat` echoing each byte), p50/p99 each way; (3) hub CPU
// per MiB relayed (the hub is a child process with its own kcp; its CPU time is read around the via-hub copies).
// The same OpenSSH client, sshd (e2e/harness/sshd.ts), cipher and file serve both paths: only the path differs.
// Run: node_modules/.bin/node bench/ssh.ts [--mib 256] [--samples 300] [--reps 2] [--direct-only]
// bench/run.ts calls benchSsh() and takes its headline ratios.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kedge, kedgeLogin, run } from '../e2e/harness/cli.ts';
import { joinServerEdge, kedgeBinDir, sshEnv, tempHome, type ServerEdge } from '../e2e/harness/ssh.ts';
import { startSshd, type Sshd } from '../e2e/harness/sshd.ts';
import { freePort } from '../src/util/free-port.ts';
import { pct, procCpuUs, startHubChild, type HubChild } from './edges.ts';

export interface SshOptions {
  /** Size of the scp'd file. */
  mib: number;
  /** Keystroke round trips measured each way (after 20 warm-up ones). */
  samples: number;
  /** scp copies each way (interleaved direct, hub, direct, hub …); the best of each counts. */
  reps: number;
  /** Measure only the direct baseline (no hub, agent or CLI needed). */
  directOnly: boolean;
}

export const sshDefaults: SshOptions = { mib: 256, samples: 300, reps: 2, directOnly: false };

export interface SshFigures {
  scpMiBps: { direct: number; viaHub: number };
  echoMs: { direct: { p50: number; p99: number }; viaHub: { p50: number; p99: number } };
  /** Hub process CPU ms per MiB relayed by the via-hub copies. */
  hubCpuMsPerMiB: number;
  /** Agent process CPU ms per MiB. */
  agentCpuMsPerMiB: number;
  /** `kedge ssh --proxy` process CPU ms per MiB (its start included; sampled every 50 ms, so a little low). */
  proxyCpuMsPerMiB: number;
  /** Share of all cores busy (not idle) during the via-hub copies, and during the direct ones. */
  busy: { direct: number; viaHub: number };
  /** Why the via-hub half did not run, if it did not. */
  viaHubSkipped?: string;
}

interface Path {
  name: 'direct' | 'via hub';
  /** ssh/scp options and the destination, e.g. ['-F', cfg, …] and 'root@bench.bench'. */
  opts: string[];
  /** scp takes -P for the port, ssh -p: the port is given separately. */
  port?: number;
  target: string;
  env: Record<string, string>;
}

const pct100 = (x: number): string => `${(100 * x).toFixed(0)}%`;

const sshPortFlag = (p: Path, scp: boolean): string[] =>
  p.port === undefined ? [] : [scp ? '-P' : '-p', String(p.port)];

/** Seconds for one `scp` of `file` to /dev/null on the host. */
async function scpOnce(p: Path, file: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await run('scp', ['-q', ...p.opts, ...sshPortFlag(p, true), file, `${p.target}:/dev/null`], {
    env: p.env,
    timeoutMs: 600_000,
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // sftp-mode scp cannot set the times of /dev/null ("fsetstat: Bad message"): harmless, the bytes were written.
  const stderr = r.stderr.replace(/scp: remote fsetstat: Bad message\r?\n/g, '');
  if (r.code !== 0 || stderr.trim() !== '') throw new Error(`scp (${p.name}) failed (${r.code}): ${r.stderr}`);
  return s;
}

/** Jiffies since boot from /proc/stat: [busy, total] over all cores. */
function machineJiffies(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - f[4]!, total];
}

/** Samples the CPU time of every `kedge … --proxy` process until stopped; resolves their total in µs. */
function watchProxyCpu(): { stop: () => number } {
  const last = new Map<number, number>();
  const sample = (): void => {
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv.includes('--proxy') && argv.some((a) => a.includes('kedge'))) last.set(pid, procCpuUs(pid));
      } catch {
        // gone meanwhile
      }
    }
  };
  const timer = setInterval(sample, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return [...last.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/** Round trips of one byte through a remote PTY in raw mode with `cat` echoing it, in ms. */
async function echoSamples(p: Path, n: number): Promise<number[]> {
  const child = spawn(
    'ssh',
    [...p.opts, ...sshPortFlag(p, false), '-tt', p.target, 'stty raw -echo; echo READY; exec cat'],
    { env: p.env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let buf = '';
  let waiter: (() => void) | undefined;
  child.stdout.on('data', (b: Buffer) => {
    buf += b.toString('latin1');
    waiter?.();
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const until = (cond: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(() => reject(new Error(`${p.name}: no ${what} within 15 s; stderr: ${stderr}`)), 15_000);
      waiter = () => {
        if (!cond()) return;
        clearTimeout(timer);
        waiter = undefined;
        resolve();
      };
    });
  try {
    await until(() => buf.includes('READY'), 'READY from the remote shell');
    const ms: number[] = [];
    for (let i = 0; i < n + 20; i++) {
      buf = '';
      const ch = String.fromCharCode(97 + (i % 26));
      const t0 = process.hrtime.bigint();
      child.stdin.write(ch);
      await until(() => buf.includes(ch), `echo of ${ch}`);
      if (i >= 20) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ms.sort((a, b) => a - b);
  } finally {
    child.kill('SIGTERM');
  }
}

/** Hub, tenant, server edge with a server-mode agent, and an OpenSSH config from `kedge ssh-config`. */
async function viaHubSetup(
  dir: string,
  sshd: Sshd,
  out: (l?: string) => void,
): Promise<{ hub: HubChild; edge: ServerEdge; path: Omit<Path, 'name'>; cleanup: () => Promise<void> }> {
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const hubURL = `https://127.0.0.1:${port}`;
  const t0 = Date.now();
  const hub = await startHubChild(join(dir, 'hub'), token, port);
  out(`hub + kcp ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const kc = join(dir, 'user.kubeconfig');
  const binDir = kedgeBinDir();
  const home = tempHome();
  let edge: ServerEdge | undefined;
  const cleanup = async (): Promise<void> => {
    await edge?.agent.stop().catch(() => {});
    hub.child.send({ type: 'stop' });
    await new Promise((r) => hub.child.once('exit', r));
    rmSync(binDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await kedgeLogin(hubURL, token, hub.caFile, kc);
    edge = await joinServerEdge({
      kc,
      hubURL,
      hubCAFile: hub.caFile,
      name: 'bench',
      sshPort: sshd.port,
      hostKeyLines: sshd.hostKeyLines,
    });
    const env = sshEnv({ home, kubeconfig: kc, binDir });
    const cfgText = await kedge(['ssh-config', '--suffix', 'bench'], env);
    if (cfgText.code !== 0) throw new Error(`kedge ssh-config: ${cfgText.stderr}`);
    const cfg = join(dir, 'ssh_config');
    writeFileSync(cfg, cfgText.stdout);
    const opts = ['-F', cfg, '-i', sshd.userKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];
    return { hub, edge, path: { opts, target: `${sshd.user}@bench.bench`, env }, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function writeRandomFile(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1 << 20));
  } finally {
    closeSync(fd);
  }
}

export async function benchSsh(
  options: Partial<SshOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<SshFigures> {
  const o = { ...sshDefaults, ...options };
  const figures: SshFigures = {
    scpMiBps: { direct: NaN, viaHub: NaN },
    echoMs: { direct: { p50: NaN, p99: NaN }, viaHub: { p50: NaN, p99: NaN } },
    hubCpuMsPerMiB: NaN,
    agentCpuMsPerMiB: NaN,
    proxyCpuMsPerMiB: NaN,
    busy: { direct: NaN, viaHub: NaN },
  };
  out(`# bench/ssh.ts — ${new Date().toISOString()}, scp ${o.mib} MiB × ${o.reps}, ${o.samples} keystrokes`);
  const dir = mkdtempSync(join(tmpdir(), 'kedge-bench-ssh-'));
  const file = join(dir, 'payload.bin');
  writeRandomFile(file, o.mib);
  const sshd = await startSshd();
  const direct: Path = {
    name: 'direct',
    opts: sshd.directOptions(),
    port: sshd.port,
    target: `${sshd.user}@127.0.0.1`,
    env: sshEnv({ home: dir, kubeconfig: '/dev/null' }),
  };
  let hubSide: Awaited<ReturnType<typeof viaHubSetup>> | undefined;
  try {
    if (o.directOnly) figures.viaHubSkipped = '--direct-only';
    else
      hubSide = await viaHubSetup(dir, sshd, out).catch((err: unknown) => {
        figures.viaHubSkipped = (err as Error).message.split('\n')[0];
        return undefined;
      });
    if (figures.viaHubSkipped !== undefined) out(`via hub: skipped (${figures.viaHubSkipped})`);
    const viaHub: Path | undefined = hubSide && { name: 'via hub', ...hubSide.path };

    // (1) scp, interleaved so both paths see the same machine state.
    const secs = { direct: [] as number[], viaHub: [] as number[] };
    let hubCpuUs = 0;
    let agentCpuUs = 0;
    let proxyCpuUs = 0;
    const busy = { direct: [0, 0], viaHub: [0, 0] };
    const timed = async (which: 'direct' | 'viaHub', copy: () => Promise<number>): Promise<number> => {
      const [b0, t0] = machineJiffies();
      const s = await copy();
      const [b1, t1] = machineJiffies();
      busy[which][0]! += b1 - b0;
      busy[which][1]! += t1 - t0;
      return s;
    };
    for (let rep = 0; rep < o.reps; rep++) {
      secs.direct.push(await timed('direct', () => scpOnce(direct, file)));
      if (viaHub && hubSide) {
        const agentPid = hubSide.edge.agent.child?.pid ?? 0;
        const [h0, a0] = [await hubSide.hub.cpu(), procCpuUs(agentPid)];
        const proxyWatch = watchProxyCpu();
        secs.viaHub.push(await timed('viaHub', () => scpOnce(viaHub, file)));
        proxyCpuUs += proxyWatch.stop();
        const [h1, a1] = [await hubSide.hub.cpu(), procCpuUs(agentPid)];
        hubCpuUs += h1.user + h1.system - h0.user - h0.system;
        agentCpuUs += a1 - a0;
      }
    }
    const best = (a: number[]): number => (a.length === 0 ? NaN : Math.min(...a));
    figures.scpMiBps = { direct: o.mib / best(secs.direct), viaHub: o.mib / best(secs.viaHub) };
    const relayedMiB = o.mib * secs.viaHub.length;
    figures.hubCpuMsPerMiB = relayedMiB > 0 ? hubCpuUs / 1000 / relayedMiB : NaN;
    figures.agentCpuMsPerMiB = relayedMiB > 0 ? agentCpuUs / 1000 / relayedMiB : NaN;
    figures.proxyCpuMsPerMiB = relayedMiB > 0 ? proxyCpuUs / 1000 / relayedMiB : NaN;
    figures.busy = { direct: busy.direct[0]! / busy.direct[1]!, viaHub: busy.viaHub[0]! / busy.viaHub[1]! };
    out();
    out(`scp ${o.mib} MiB to /dev/null on the host (best of ${o.reps}, interleaved)`);
    out(`  direct to sshd     ${figures.scpMiBps.direct.toFixed(1).padStart(7)} MiB/s`);
    out(`  via hub + agent    ${figures.scpMiBps.viaHub.toFixed(1).padStart(7)} MiB/s`);
    out(`  ratio via-hub/direct ${(figures.scpMiBps.viaHub / figures.scpMiBps.direct).toFixed(2)}× (aim ≥ 0.70×)`);
    out(
      `  CPU per MiB relayed: hub ${figures.hubCpuMsPerMiB.toFixed(2)} ms, agent ${figures.agentCpuMsPerMiB.toFixed(2)} ms, ` +
        `kedge ssh --proxy ${figures.proxyCpuMsPerMiB.toFixed(2)} ms (its start included)`,
    );
    out(
      `  machine busy during the copies (all ${availableParallelism()} cores): direct ${pct100(figures.busy.direct)}, ` +
        `via hub ${pct100(figures.busy.viaHub)}`,
    );

    // (2) keystroke echo, alternating halves of the samples between the two paths.
    const rounds = 4;
    const echo = { direct: [] as number[], viaHub: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      echo.direct.push(...(await echoSamples(direct, Math.ceil(o.samples / rounds))));
      if (viaHub) echo.viaHub.push(...(await echoSamples(viaHub, Math.ceil(o.samples / rounds))));
    }
    echo.direct.sort((a, b) => a - b);
    echo.viaHub.sort((a, b) => a - b);
    figures.echoMs = {
      direct: { p50: pct(echo.direct, 0.5), p99: pct(echo.direct, 0.99) },
      viaHub: { p50: pct(echo.viaHub, 0.5), p99: pct(echo.viaHub, 0.99) },
    };
    const row = (what: string, f: { p50: number; p99: number }, n: number): string =>
      `  ${what.padEnd(18)} p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   (${n} samples)`;
    out();
    out('keystroke echo round trip (ssh -tt, remote tty raw, cat echoes each byte)');
    out(row('direct to sshd', figures.echoMs.direct, echo.direct.length));
    out(row('via hub + agent', figures.echoMs.viaHub, echo.viaHub.length));
    out(
      `  added p50 ${(figures.echoMs.viaHub.p50 - figures.echoMs.direct.p50).toFixed(2)} ms (aim ≤ 1 ms), p99 ${(figures.echoMs.viaHub.p99 - figures.echoMs.direct.p99).toFixed(2)} ms`,
    );
  } finally {
    await hubSide?.cleanup();
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: String(sshDefaults.mib) },
      samples: { type: 'string', default: String(sshDefaults.samples) },
      reps: { type: 'string', default: String(sshDefaults.reps) },
      'direct-only': { type: 'boolean', default: false },
    },
  });
  await benchSsh({
    mib: Number(values.mib),
    samples: Number(values.samples),
    reps: Number(values.reps),
    directOnly: values['direct-only'],
  });
  process.exit();
}
