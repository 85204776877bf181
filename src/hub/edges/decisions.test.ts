import { describe, expect, test } from '@jest/globals';
import { proxyReviewSpec } from './access-review.ts';
import { agentStatusPatch } from './agent-status.ts';
import { jwtClaim, looksLikeJWT } from './credentials.ts';
import { edgeRequestHeaders } from './tunnel-http.ts';
import { decodeEdgeIdentity, encodeEdgeIdentity } from '../../api/edge-identity.ts';
import type { Edge } from '../../api/types.ts';

const edge: Edge = {
  apiVersion: 'kedge.faros.sh/v1alpha1',
  kind: 'Edge',
  metadata: { name: 'e1' },
  spec: { type: 'kubernetes' },
};
const now = new Date('2026-01-01T00:00:00Z');
const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPGhIXosAJ4ZS7B0jAWvnnvN5msyPHRjxgVUfhMwCBH';
const EC =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEfVsh8cgkUfRGtC/ADtfp9/XiJuDAwlpIEeZuYs0KIZdIetlUJlPmB9s5xZ3jZ8XKD61mxMiS/Bl5EFMnu1DZU=';

describe('agentStatusPatch: the hub keeps only agent-owned fields', () => {
  test('hub-owned fields are dropped, the heartbeat is the hub clock', () => {
    const p = agentStatusPatch(
      {
        status: {
          hostname: 'pi',
          agentVersion: '1.0',
          phase: 'Ready',
          connected: true,
          URL: 'https://evil',
          lastHeartbeatTime: '2099-01-01T00:00:00Z',
          conditions: [],
        },
      },
      edge,
      now,
    );
    expect(p).toEqual({ status: { hostname: 'pi', agentVersion: '1.0', lastHeartbeatTime: '2026-01-01T00:00:00Z' } });
  });
  test('server edges: the first report pins every key; later reports only update the observed keys', () => {
    const server: Edge = { ...edge, spec: { type: 'server' } };
    const first = agentStatusPatch({ status: { observedSSHHostKeys: [`${ED} root@pi`, EC, 'junk'] } }, server, now);
    expect(first?.status).toMatchObject({ sshHostKeys: [EC, ED], sshHostKey: EC, observedSSHHostKeys: [EC, ED] });
    const pinned: Edge = { ...server, status: { sshHostKeys: [ED], sshHostKey: ED } };
    const later = agentStatusPatch({ status: { observedSSHHostKeys: [EC] } }, pinned, now);
    expect(later?.status.observedSSHHostKeys).toEqual([EC]);
    expect(later?.status.sshHostKeys).toBeUndefined();
    expect(later?.status.sshHostKey).toBeUndefined();
    // The Go agent's single key is a report too; a legacy pinned sshHostKey counts as pinned.
    const legacy: Edge = { ...server, status: { sshHostKey: ED } };
    expect(agentStatusPatch({ status: { sshHostKey: EC } }, legacy, now)?.status.sshHostKeys).toBeUndefined();
    // Kubernetes edges pin nothing.
    expect(agentStatusPatch({ status: { observedSSHHostKeys: [ED] } }, edge, now)?.status).toEqual({
      lastHeartbeatTime: '2026-01-01T00:00:00Z',
    });
  });
  test('server facts are kept', () => {
    const p = agentStatusPatch({ status: { os: 'linux', kernelVersion: '6.1', architecture: 'arm64' } }, edge, now);
    expect(p?.status).toMatchObject({ os: 'linux', kernelVersion: '6.1', architecture: 'arm64' });
  });
  test('bad shapes are refused', () => {
    expect(agentStatusPatch({}, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: [] }, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: { hostname: 5 } }, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: { hostname: 'x'.repeat(2000) } }, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: { observedSSHHostKeys: 'ssh-ed25519 AAA' } }, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: { observedSSHHostKeys: [5] } }, edge, now)).toBeUndefined();
    expect(agentStatusPatch({ status: { observedSSHHostKeys: Array(17).fill(ED) } }, edge, now)).toBeUndefined();
  });
});

test('the SSH SAR asks for create on edges/ssh: granted separately from proxy', () => {
  expect(proxyReviewSpec({ username: 'a', uid: 'u', groups: [] }, 'e1', 'ssh').resourceAttributes).toEqual({
    group: 'kedge.faros.sh',
    resource: 'edges',
    subresource: 'ssh',
    verb: 'create',
    name: 'e1',
  });
});

test('the SAR asks for proxy on that edge and adds system:authenticated once', () => {
  expect(proxyReviewSpec({ username: 'kedge:static:a', uid: 'u', groups: ['kedge:users'] }, 'e1')).toEqual({
    user: 'kedge:static:a',
    uid: 'u',
    groups: ['kedge:users', 'system:authenticated'],
    resourceAttributes: { group: 'kedge.faros.sh', resource: 'edges', verb: 'proxy', name: 'e1' },
  });
  expect(proxyReviewSpec({ username: 'x', uid: 'u', groups: ['system:authenticated'] }, 'e1').groups).toEqual([
    'system:authenticated',
  ]);
});

test("requests to the edge never carry the caller's credentials or asserted identity", () => {
  const h = edgeRequestHeaders(
    {
      authorization: 'Bearer user-token',
      'impersonate-user': 'admin',
      'impersonate-group': 'system:masters',
      'x-remote-user': 'root',
      cookie: 'a=b',
      'proxy-authorization': 'x',
      connection: 'keep-alive',
      host: 'hub',
      accept: 'application/json',
      'x-stream-protocol-version': 'v4.channel.k8s.io',
      'kedge-identity': encodeEdgeIdentity({ user: 'kedge:forged', groups: [], tenant: 'x', role: 'admin' }),
    },
    undefined,
  );
  expect(h).toEqual({
    accept: 'application/json',
    'x-stream-protocol-version': 'v4.channel.k8s.io',
    host: 'kubernetes',
    connection: 'keep-alive',
  });
  // The hub's own identity replaces whatever the caller sent.
  const id = { user: 'kedge:static:a', uid: 'static-a', groups: ['kedge:users'], tenant: 'a', role: 'view' as const };
  const withId = edgeRequestHeaders({ 'kedge-identity': 'forged', accept: 'a' }, undefined, id);
  expect(decodeEdgeIdentity(withId['kedge-identity'])).toEqual(id);
  expect(edgeRequestHeaders({ upgrade: 'SPDY/3.1', connection: 'Upgrade' }, 'SPDY/3.1')).toEqual({
    host: 'kubernetes',
    connection: 'Upgrade',
    upgrade: 'SPDY/3.1',
  });
});

test('only JWT-shaped tokens go to a TokenReview', () => {
  const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`;
  expect(looksLikeJWT(jwt)).toBe(true);
  expect(looksLikeJWT('not-a-jwt')).toBe(false);
  expect(looksLikeJWT('a.b.c')).toBe(false);
  expect(looksLikeJWT(`${jwt}.x`)).toBe(false);
  expect(looksLikeJWT('x'.repeat(20_000))).toBe(false);
  const b64 = (s: string): string => Buffer.from(s).toString('base64url');
  expect(looksLikeJWT(`${b64('{"alg":"RS256"}')}.${b64('"claims"')}.sig`)).toBe(false); // claims not an object
  expect(looksLikeJWT(`${b64('[1]')}.${b64('{}')}.sig`)).toBe(false); // header not an object
  expect(looksLikeJWT(`${b64('{"alg":"RS256"}')}.${b64('{}')}=.sig`)).toBe(false); // padded: not base64url
});

test('claims of a service-account token are read with jose (legacy tokens carry the logical cluster as a claim)', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64url');
  const jwt = `${b64('{"alg":"RS256","kid":"k"}')}.${b64(
    JSON.stringify({
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/clusterName': '2x8flc',
      n: 1,
    }),
  )}.c2ln`;
  expect(jwtClaim(jwt, 'kubernetes.io/serviceaccount/clusterName')).toBe('2x8flc');
  expect(jwtClaim(jwt, 'n')).toBeUndefined(); // not a string
  expect(jwtClaim(jwt, 'absent')).toBeUndefined();
  expect(jwtClaim('not-a-jwt', 'iss')).toBeUndefined();
});
