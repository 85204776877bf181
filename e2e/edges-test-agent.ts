// A minimal agent for hub-side e2e tests, speaking docs/agent-protocol.md: POST …/join, then the …/proxy tunnel
// (yamux client) whose `k8s` streams go to the agent's own K8sProxy (src/agent/tunnel/k8s-proxy.ts) in front of a
// real edge kube-apiserver. Also raw helpers to misbehave on the tunnel (garbage frames).
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import WebSocket from 'ws';
import { openLocalCluster } from '../src/agent/local-cluster.ts';
import { K8sProxy } from '../src/agent/tunnel/k8s-proxy.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { createWebSocketSession, webSocketOptions, type TunnelSession } from '../src/tunnel/index.ts';

export function agentBase(hubURL: string, cluster: string, edge: string): string {
  return `${hubURL}/services/agent-proxy/clusters/${cluster}/apis/kedge.faros.sh/v1alpha1/edges/${edge}`;
}

export interface TestAgent {
  session: TunnelSession;
  ws: WebSocket;
  close(): Promise<void>;
}

/** Opens the tunnel with `credential`; resolves once the WebSocket is open (rejects with the HTTP status otherwise). */
export function connectTunnel(
  base: string,
  caFile: string,
  credential: string,
  edgeKubeconfig?: string,
): Promise<TestAgent> {
  const log = pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' });
  const ws = new WebSocket(`${base.replace(/^https/, 'wss')}/proxy`, {
    headers: { authorization: `Bearer ${credential}` },
    ca: readFileSync(caFile),
    ...webSocketOptions(),
  });
  const proxy = edgeKubeconfig
    ? new K8sProxy(openLocalCluster(loadKubeconfig({ path: edgeKubeconfig })).target, log)
    : undefined;
  const session = createWebSocketSession(ws, {
    role: 'client',
    logger: log,
    onStream: (stream, header) => {
      if (header.kind === 'k8s' && proxy) proxy.handle(stream);
      else stream.destroy();
    },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        session,
        ws,
        close: async () => {
          proxy?.close();
          await session.close();
        },
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      void session.close();
      reject(new Error(`tunnel refused: ${res.statusCode}`));
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Opens the tunnel WebSocket but writes raw bytes instead of yamux (hostile peer). */
export function rawTunnel(base: string, caFile: string, credential: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace(/^https/, 'wss')}/proxy`, {
    headers: { authorization: `Bearer ${credential}` },
    ca: readFileSync(caFile),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`tunnel refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
