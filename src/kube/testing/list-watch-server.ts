// Test double of the API server's list/watch protocol for informer unit tests: paged LIST with continue tokens,
// long-lived WATCH responses the test drives event by event, scripted HTTP failures, and request recording.
// It checks the informer's own logic; behaviour against the real kcp is covered by the e2e suites.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clusterKey } from '../cluster-key.ts';
import type { KubeObject, StatusBody, WatchEvent } from '../types.ts';

export type Recorded = { kind: 'list' | 'watch'; query: URLSearchParams };

export class WatchConn {
  readonly query: URLSearchParams;
  readonly #res: ServerResponse;
  closed = false;

  constructor(query: URLSearchParams, res: ServerResponse) {
    this.query = query;
    this.#res = res;
    res.on('close', () => (this.closed = true));
  }

  send(event: WatchEvent | { type: 'ERROR'; object: StatusBody }): void {
    this.#res.write(JSON.stringify(event) + '\n');
  }

  /** Ends the response cleanly, as the server does when `timeoutSeconds` expires. */
  end(): void {
    this.#res.end();
  }

  /** Drops the TCP connection mid-stream. */
  destroy(): void {
    this.#res.socket?.destroy();
  }
}

export class ListWatchServer {
  readonly objects = new Map<string, KubeObject>();
  readonly requests: Recorded[] = [];
  readonly watches: WatchConn[] = [];
  /** Status codes returned (as Status bodies) by the next LISTs / WATCHes, one per request. */
  readonly listFailures: number[] = [];
  readonly watchFailures: number[] = [];
  rv = 100;
  url = '';
  readonly #server: Server;
  #watchWaiters: ((c: WatchConn) => void)[] = [];

  constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  /** Stores (or replaces) an object with a fresh resourceVersion; open watches see it unless `silent`. */
  put(obj: KubeObject, opts: { silent?: boolean } = {}): KubeObject {
    const key = clusterKey(obj);
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    const existed = this.objects.has(key);
    this.objects.set(key, stored);
    if (!opts.silent) this.broadcast({ type: existed ? 'MODIFIED' : 'ADDED', object: stored });
    return stored;
  }

  remove(key: string, opts: { silent?: boolean } = {}): void {
    const obj = this.objects.get(key);
    if (obj === undefined) return;
    this.objects.delete(key);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    if (!opts.silent) this.broadcast({ type: 'DELETED', object: gone });
  }

  broadcast(event: WatchEvent): void {
    for (const w of this.watches) if (!w.closed) w.send(event);
  }

  /** The newest open watch, waiting for the informer to open one if needed. */
  nextWatch(after = this.watches.length): Promise<WatchConn> {
    const existing = this.watches[after];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const check = (c: WatchConn): void => {
        if (this.watches.length > after) resolve(this.watches[after] ?? c);
        else this.#watchWaiters.push(check);
      };
      this.#watchWaiters.push(check);
    });
  }

  count(kind: 'list' | 'watch'): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const watch = q.get('watch') === 'true';
    this.requests.push({ kind: watch ? 'watch' : 'list', query: q });
    const failure = (watch ? this.watchFailures : this.listFailures).shift();
    if (failure !== undefined) {
      res.writeHead(failure, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          status: 'Failure',
          code: failure,
          reason: failure === 410 ? 'Expired' : 'InternalError',
        }),
      );
      return;
    }
    if (watch) {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const conn = new WatchConn(q, res);
      this.watches.push(conn);
      for (const w of this.#watchWaiters.splice(0)) w(conn);
      return;
    }
    const all = [...this.objects.values()];
    const limit = Number(q.get('limit') ?? all.length) || all.length;
    const from = Number(q.get('continue') ?? 0);
    const items = all.slice(from, from + limit);
    const more = from + limit < all.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'EdgeList',
        metadata: { resourceVersion: String(this.rv), continue: more ? String(from + limit) : undefined },
        items,
      }),
    );
  }
}
