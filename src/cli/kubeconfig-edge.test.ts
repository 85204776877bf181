import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { edgeKubeconfig } from './kubeconfig-edge.ts';

const server = 'https://hub:8443/services/edges-proxy/clusters/lc/apis/kedge.faros.sh/v1alpha1/edges/pi/k8s';

describe('edgeKubeconfig', () => {
  it('copies an exec plugin (kedge get-token), so no short-lived ID token is written out', () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: '/x/kedge', args: ['get-token'] };
    const kc = parse(edgeKubeconfig({ name: 'pi', server, credential: { exec }, ca: 'PEM' })) as {
      users: { user: Record<string, unknown> }[];
      clusters: { cluster: Record<string, unknown> }[];
    };
    expect(kc.users[0]?.user).toEqual({ exec });
    expect(kc.clusters[0]?.cluster).toEqual({
      server,
      'certificate-authority-data': Buffer.from('PEM').toString('base64'),
    });
  });

  it('writes a static token as the user token', () => {
    const kc = parse(edgeKubeconfig({ name: 'pi', server, credential: { token: 't0k' }, insecure: true })) as {
      users: { user: Record<string, unknown> }[];
      clusters: { cluster: Record<string, unknown> }[];
    };
    expect(kc.users[0]?.user).toEqual({ token: 't0k' });
    expect(kc.clusters[0]?.cluster['insecure-skip-tls-verify']).toBe(true);
  });
});
