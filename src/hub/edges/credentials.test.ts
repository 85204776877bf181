import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { serviceAccountUsername } from '../../api/names.ts';
import type { KubeClient } from '../../kube/client.ts';
import { CLUSTER_NAME_EXTRA, EdgeCredentials } from './credentials.ts';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = (edge: string): string => `${b64({ alg: 'RS256' })}.${b64({ sub: edge })}.c2ln`;

/** kcp as EdgeCredentials sees it: every token is its edge's ServiceAccount, owned by Edge uid `uid-<edge>`. */
function fakeKcp(): KubeClient {
  const client = {
    forCluster: (cluster: string) => ({
      create: (_path: string, review: { spec: { token: string } }) => {
        const { sub } = JSON.parse(Buffer.from(review.spec.token.split('.')[1] ?? '', 'base64url').toString()) as {
          sub: string;
        };
        return Promise.resolve({
          metadata: {},
          status: {
            authenticated: true,
            user: {
              username: serviceAccountUsername(sub),
              uid: `sa-${sub}`,
              extra: { [CLUSTER_NAME_EXTRA]: [cluster] },
            },
          },
        });
      },
      get: (path: string) => {
        const edge =
          path
            .split('/')
            .pop()
            ?.replace(/^edge-/, '') ?? '';
        return Promise.resolve({
          metadata: { uid: `sa-${edge}`, ownerReferences: [{ kind: 'Edge', uid: `uid-${edge}` }] },
        });
      },
    }),
  };
  return client as unknown as KubeClient;
}

describe('EdgeCredentials', () => {
  it('caches a verified token, and invalidate forgets the tokens of that edge only', async () => {
    const creds = new EdgeCredentials(fakeKcp(), pino({ level: 'silent' }));
    const verify = (edge: string, cluster = 'root:a') => creds.verify(token(edge), cluster, edge, `uid-${edge}`);
    expect(await verify('e1')).toBe(true);
    expect(await verify('e2')).toBe(true);
    expect(await verify('e1', 'root:b')).toBe(false); // cached for root:a: another workspace's Edge does not match
    expect(creds.reviews).toBe(2);
    creds.invalidate('root:a', 'e1');
    expect(await verify('e2')).toBe(true);
    expect(creds.reviews).toBe(2);
    expect(await verify('e1')).toBe(true);
    expect(creds.reviews).toBe(3);
    creds.invalidate('root:a', 'e1');
    creds.invalidate('root:a', 'e1'); // nothing left to forget
    expect(await verify('e1')).toBe(true);
    expect(creds.reviews).toBe(4);
  });
});
