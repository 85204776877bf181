// Wire compatibility with hashicorp/yamux: the Go peer in hack/tools/yamux-peer (hashicorp/yamux over a gorilla
// WebSocket) and our session exchange streams in both directions, as client and as server, checked by SHA-256.
// The peer is built with `go build` into $KEDGE_CACHE/bin/yamux-peer, once per source hash. No Go means a failure,
// which is why this is an integration suite: `make test` has Go for the kcp build anyway, the unit project needs none.
import { describe, it, expect, beforeAll, afterEach } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { StreamKind } from '../src/tunnel/header.ts';
import { createWebSocketSession, webSocketOptions } from '../src/tunnel/session.ts';
import type { TunnelSession } from '../src/tunnel/session.ts';
import { echoHandler, payload, readAll, sha256, testLogger, writeAll, wsServer } from '../src/tunnel/test-support.ts';

const peerDir = resolve(dirname(fileURLToPath(import.meta.url)), '../hack/tools/yamux-peer');
const binDir = join(process.env.KEDGE_CACHE ?? join(homedir(), '.cache', 'kedge'), 'bin');
const peerBin = join(binDir, 'yamux-peer');
const stampFile = join(binDir, '.yamux-peer.stamp');

function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) h.update(f).update(readFileSync(join(peerDir, f)));
  return h.digest('hex');
}

/** Builds the Go peer unless the cached binary matches the sources. Throws (never skips) when Go is missing. */
function ensurePeer(): void {
  const hash = sourceHash();
  if (existsSync(peerBin) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash) return;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error !== undefined || go.status !== 0) {
    throw new Error(
      'the tunnel interop test needs the Go toolchain (`go` on PATH) to build hack/tools/yamux-peer; install Go >= 1.24',
    );
  }
  mkdirSync(binDir, { recursive: true });
  const tmp = `${peerBin}.tmp-${process.pid}`;
  const build = spawnSync('go', ['build', '-trimpath', '-o', tmp, '.'], { cwd: peerDir, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`go build of hack/tools/yamux-peer failed:\n${build.stderr}`);
  renameSync(tmp, peerBin);
  writeFileSync(stampFile, hash);
}

interface Peer {
  child: ChildProcess;
  /** Resolves with the next stdout line starting with `prefix` (without it). */
  line(prefix: string): Promise<string>;
}

function startPeer(args: string[]): Peer {
  const child = spawn(peerBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const line = (prefix: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        const found = lines.find((l) => l.startsWith(prefix));
        if (found !== undefined) resolve(found.slice(prefix.length).trim());
        else if (child.exitCode !== null) reject(new Error(`yamux-peer exited ${child.exitCode}: ${stderr}`));
        else waiters.push(look);
      };
      child.once('exit', () => waiters.length > 0 && look());
      look();
    });
  return { child, line };
}

let peer: Peer | undefined;
let session: TunnelSession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
  peer?.child.kill();
  peer = undefined;
});

beforeAll(() => ensurePeer(), 120_000);

async function exchangeWithGo(s: TunnelSession, streams: number): Promise<void> {
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const data = payload(200_000 + i * 4099);
      const stream = await s.openStream({ kind: StreamKind.PingTest });
      const [, back] = await Promise.all([writeAll(stream, data), readAll(stream)]);
      expect(sha256(back)).toBe(sha256(data));
    }),
  );
}

function expectGoResult(result: string, opened: number): void {
  expect(JSON.parse(result)).toEqual({ opened, verified: opened, errors: [] });
}

describe('interop with hashicorp/yamux (Go)', () => {
  it('TS client (agent role) <-> Go server: streams both ways', async () => {
    peer = startPeer(['-mode', 'server', '-open', '12', '-bytes', '300000']);
    const url = await peer.line('LISTEN');
    const ws = new WebSocket(url, webSocketOptions());
    session = createWebSocketSession(ws, { role: 'client', logger: testLogger, onStream: echoHandler });
    await exchangeWithGo(session, 12);
    expectGoResult(await peer.line('RESULT'), 12);
    expect(session.closed).toBe(false);
    expect(await session.ping()).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('TS server (hub role) <-> Go client: streams both ways', async () => {
    const endpoint = await wsServer();
    try {
      peer = startPeer(['-mode', 'client', '-url', endpoint.url, '-open', '12', '-bytes', '300000']);
      session = createWebSocketSession(await endpoint.accept(), {
        role: 'server',
        logger: testLogger,
        onStream: echoHandler,
      });
      await exchangeWithGo(session, 12);
      expectGoResult(await peer.line('RESULT'), 12);
      expect(session.closed).toBe(false);
    } finally {
      await session?.close();
      await endpoint.close();
    }
  }, 60_000);
});
