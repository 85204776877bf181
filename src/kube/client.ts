// KubeClient: requests to a Kubernetes/kcp API server over ONE shared undici keep-alive Agent. The server URL may
// carry a path prefix (`/clusters/root:kedge`, a virtual-workspace URL); it is kept verbatim, `:` and `*` unescaped.
// Clients derived with `withServer`/`withPath`/`forCluster` share the Agent, its TLS settings and credentials.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { apiErrorFromResponse } from './api-error.ts';
import type { KubeList, KubeObject, StatusBody, WatchEvent } from './types.ts';
import { decodeWatchEvents } from './watch-stream.ts';

export type KubeClientOptions = {
  /** Base URL, e.g. `https://127.0.0.1:6443/clusters/root:kedge` or an APIExport virtual-workspace URL. */
  server: string;
  token?: string;
  /** Re-read at most once a minute, so rotated service-account tokens are picked up. */
  tokenFile?: string;
  /**
   * The Authorization header value, asked for on every request (wins over `token`/`tokenFile`): credentials that
   * expire, e.g. a kubeconfig exec plugin's (kubeconfig-options.ts). Must be cheap when its credential is cached.
   */
  authorization?: () => string | undefined | Promise<string | undefined>;
  /** PEM CA bundle to trust instead of the system roots. */
  ca?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  /** SNI / certificate name when it differs from the URL host. */
  tlsServerName?: string;
  userAgent?: string;
  /** Whole-request timeout for non-watch requests (default 30 s); for watches it bounds only the response headers. */
  timeoutMs?: number;
  /** Offer HTTP/2 (ALPN) as kubectl does; off by default (see newTransport). For benchmarks and tests. */
  http2?: boolean;
};

export type Query = Record<string, string | number | boolean | undefined | readonly string[]>;

export type RequestOptions = {
  query?: Query;
  /** Sent as is when a string or bytes, otherwise as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
};

export const PatchType = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = keyof typeof PatchType;

export type DeleteOptions = {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  query?: Query;
  signal?: AbortSignal;
};

/** What derived clients share. Internal: construct clients with `new KubeClient(options)`. */
export type Transport = {
  dispatcher: Dispatcher;
  authorization: () => string | undefined | Promise<string | undefined>;
  userAgent: string;
  timeoutMs: number;
};

const TOKEN_FILE_TTL_MS = 60_000;

export class KubeClient {
  /** The base URL without a trailing slash. */
  readonly server: string;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #transport: Transport;

  constructor(options: KubeClientOptions, transport?: Transport) {
    const url = new URL(options.server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new TypeError(`unsupported server URL scheme ${url.protocol}`);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.server = this.#origin + this.#basePath;
    this.#transport = transport ?? newTransport(options);
  }

  /** A client for another base URL (e.g. the virtual-workspace URL) on the same Agent and credentials. */
  withServer(server: string): KubeClient {
    return new KubeClient({ server }, this.#transport);
  }

  /** A client whose base URL is this one plus `prefix`. */
  withPath(prefix: string): KubeClient {
    const p = prefix.startsWith('/') ? prefix : `/${prefix}`;
    return this.withServer(this.server + p.replace(/\/+$/, ''));
  }

  /**
   * A client for one workspace (`root:kedge:tenants:a`) or logical cluster (`2x8f…`): replaces a trailing
   * `/clusters/<x>` of the base URL, or appends one (a kcp root URL or a virtual-workspace URL).
   */
  forCluster(clusterPath: string): KubeClient {
    const base = this.#basePath.replace(/\/clusters\/[^/]+$/, '');
    return this.withServer(`${this.#origin}${base}/clusters/${clusterPath}`);
  }

  /** The Authorization header value the next request carries (runs an exec plugin if its credential is not cached). */
  async authorizationHeader(): Promise<string | undefined> {
    return this.#transport.authorization();
  }

  /** Sends a request and parses the JSON response; throws `ApiError` on a non-2xx status. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.requestRaw(method, path, opts);
    const text = await res.body.text();
    await socketReleased();
    if (res.statusCode === 204 || text === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  /**
   * Sends a request and returns the response once its headers arrived; throws `ApiError` on a non-2xx status.
   * The caller must consume or destroy `body`, or the connection cannot be reused.
   */
  async requestRaw(
    method: string,
    path: string,
    opts: RequestOptions & { streaming?: boolean } = {},
  ): Promise<Dispatcher.ResponseData> {
    const { dispatcher, authorization, userAgent } = this.#transport;
    const timeoutMs = opts.timeoutMs ?? this.#transport.timeoutMs;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent, ...opts.headers };
    const auth = await authorization();
    if (auth !== undefined) headers.authorization = auth;
    let body: string | Uint8Array | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' || opts.body instanceof Uint8Array ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    // A watch may stay silent for minutes: only its headers are timed here; the informer's watchdog covers the body.
    const signals = opts.streaming ? [] : [AbortSignal.timeout(timeoutMs)];
    if (opts.signal) signals.push(opts.signal);
    const fullPath = this.pathFor(path, opts.query);
    const res = await request(this.#origin + fullPath, {
      dispatcher,
      method,
      headers,
      body,
      signal: signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals),
      headersTimeout: timeoutMs,
      bodyTimeout: opts.streaming ? 0 : timeoutMs,
    });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await res.body.text().catch(() => '');
      await socketReleased();
      throw apiErrorFromResponse(res.statusCode, text, method, this.#basePath + path);
    }
    return res;
  }

  /** The request path (base prefix + `path` + query) as sent on the wire. */
  pathFor(path: string, query?: Query): string {
    if (!path.startsWith('/')) throw new TypeError(`request path must start with '/': ${path}`);
    return this.#basePath + path + queryString(query);
  }

  get<T extends KubeObject = KubeObject>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  /** One page of a list; see `listAll` to follow `continue`. */
  list<T extends KubeObject = KubeObject>(path: string, query?: Query, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, { query, signal });
  }

  /**
   * Lists every page (`limit`/`continue`) and returns the items and the list's resourceVersion. Items get the
   * list's apiVersion and kind (without `List`) when the server leaves them out, as it does for built-in types.
   */
  async listAll<T extends KubeObject = KubeObject>(
    path: string,
    query: Query = {},
    opts: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.list<T>(path, { ...query, limit: opts.limit ?? 500, continue: cont }, opts.signal);
      const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -'List'.length) : undefined;
      for (const item of page.items ?? []) {
        if (item.apiVersion === undefined && page.apiVersion !== undefined) item.apiVersion = page.apiVersion;
        if (item.kind === undefined && kind !== undefined) item.kind = kind;
        items.push(item);
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont !== undefined);
    return { items, resourceVersion };
  }

  create<T extends KubeObject = KubeObject>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body });
  }

  /** PUT of the whole object; its `metadata.resourceVersion` makes it a compare-and-swap (409 on conflict). */
  update<T extends KubeObject = KubeObject>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...opts, body });
  }

  /** PUT to the `status` subresource of the object at `path`. */
  updateStatus<T extends KubeObject = KubeObject>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', `${path}/status`, { ...opts, body });
  }

  patch<T extends KubeObject = KubeObject>(
    path: string,
    body: unknown,
    type: PatchType,
    opts?: RequestOptions,
  ): Promise<T> {
    return this.request<T>('PATCH', path, { ...opts, body, contentType: PatchType[type] });
  }

  /** DELETE; resolves to the deleted object (or the object with a deletionTimestamp) or a Status. */
  delete<T extends KubeObject = KubeObject>(path: string, opts: DeleteOptions = {}): Promise<T | StatusBody> {
    const { query, signal, ...options } = opts;
    const body = Object.keys(options).length > 0 ? { apiVersion: 'v1', kind: 'DeleteOptions', ...options } : undefined;
    return this.request<T | StatusBody>('DELETE', path, { query, signal, body });
  }

  /**
   * Opens a watch (`watch=true` is added) and resolves once the server answered with 2xx. The iterable yields
   * parsed events until the server ends the response; it throws when the connection breaks or `signal` aborts.
   */
  async stream<T extends KubeObject = KubeObject>(
    path: string,
    query: Query = {},
    signal?: AbortSignal,
  ): Promise<AsyncIterable<WatchEvent<T>>> {
    const res = await this.requestRaw('GET', path, { query: { watch: 'true', ...query }, signal, streaming: true });
    return decodeWatchEvents<T>(res.body);
  }

  /** Closes the shared Agent: every client derived from the same root stops working. */
  async close(): Promise<void> {
    // destroy, not close: close() waits for in-flight requests, and a watch can stay open for minutes.
    await this.#transport.dispatcher.destroy();
  }
}

/**
 * undici hands a keep-alive socket back to its pool one event-loop turn after the response ended (it guards against
 * servers that close despite keep-alive). A caller that sends its next request at once would otherwise open a second
 * connection; waiting that turn keeps sequential callers on one socket (and one TLS handshake).
 */
function socketReleased(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function newTransport(options: KubeClientOptions): Transport {
  const dispatcher = new Agent({
    // HTTP/1.1 only: with undici's HTTP/2, destroying the Agent while watches were just cancelled can emit an
    // uncaught ClientDestroyedError from an h2 stream, which would crash a hub on shutdown.
    allowH2: options.http2 === true,
    keepAliveTimeout: 30_000,
    connect: {
      ca: options.ca,
      cert: options.clientCert,
      key: options.clientKey,
      rejectUnauthorized: options.insecureSkipTLSVerify !== true,
      servername: options.tlsServerName,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    },
  });
  return {
    dispatcher,
    authorization: bearer(options),
    userAgent: options.userAgent ?? 'kedge',
    timeoutMs: options.timeoutMs ?? 30_000,
  };
}

function bearer(options: KubeClientOptions): Transport['authorization'] {
  if (options.authorization !== undefined) return options.authorization;
  if (options.token !== undefined) {
    const value = `Bearer ${options.token}`;
    return () => value;
  }
  const file = options.tokenFile;
  if (file === undefined) return () => undefined;
  let cached = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt > TOKEN_FILE_TTL_MS) {
      cached = readFileSync(file, 'utf8').trim();
      readAt = Date.now();
    }
    return `Bearer ${cached}`;
  };
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) params.append(k, item);
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}
