import { describe, expect, test } from '@jest/globals';
import { edgesProxyURL, parseAgentRequest, parseEdgesProxyRequest } from './paths.ts';

const A = '/services/agent-proxy/clusters/2x8fk3tq0s1v9w4b/apis/kedge.faros.sh/v1alpha1/edges/e1';
const E = '/services/edges-proxy/clusters/2x8fk3tq0s1v9w4b/apis/kedge.faros.sh/v1alpha1/edges/e1';

describe('parseAgentRequest: the edge credential allow-list', () => {
  test.each([
    ['POST', '/join', 'join'],
    ['GET', '/proxy', 'tunnel'],
    ['GET', '', 'getEdge'],
    ['PATCH', '/status', 'patchEdgeStatus'],
    ['GET', '/placements', 'placements'],
    ['PUT', '/namespaces/default/placements/web-e1/status', 'putPlacementStatus'],
    ['GET', '/namespaces/default/virtualworkloads/web', 'getVirtualWorkload'],
  ])('%s …%s → %s', (method, rest, op) => {
    const r = parseAgentRequest(method, A + rest);
    expect(r).toMatchObject({ ok: true, cluster: '2x8fk3tq0s1v9w4b', edge: 'e1', op });
  });

  test('namespace and name are returned for namespaced operations', () => {
    expect(parseAgentRequest('PUT', `${A}/namespaces/ns1/placements/p.1/status`)).toEqual({
      ok: true,
      cluster: '2x8fk3tq0s1v9w4b',
      edge: 'e1',
      op: 'putPlacementStatus',
      namespace: 'ns1',
      name: 'p.1',
    });
  });

  test.each([
    ['PUT', ''],
    ['DELETE', ''],
    ['PUT', '/status'],
    ['GET', '/status'],
    ['POST', '/placements'],
    ['GET', '/namespaces/default/placements/p'],
    ['PUT', '/namespaces/default/placements/p'],
    ['PATCH', '/namespaces/default/placements/p/status'],
    ['GET', '/namespaces/default/virtualworkloads/w/status'],
    ['GET', '/namespaces/default/secrets/s'],
    ['GET', '/k8s/api/v1/pods'],
    ['GET', '/namespaces/default/configmaps/x'],
  ])('%s …%s is forbidden (403)', (method, rest) => {
    expect(parseAgentRequest(method, A + rest)).toMatchObject({ ok: false, code: 403 });
  });

  test('join with another method is 405', () => {
    expect(parseAgentRequest('GET', `${A}/join`)).toMatchObject({ ok: false, code: 405 });
  });

  test.each([
    [`${A}/../e2/status`, 400],
    [`${A}/%2e%2e/x`, 400],
    [`${A}%2Fstatus`, 400],
    [`${A}//status`, 400],
    ['/services/agent-proxy/clusters/root:kedge:tenants:a/apis/kedge.faros.sh/v1alpha1/edges/e1', 400],
    ['/services/agent-proxy/clusters/ABC/apis/kedge.faros.sh/v1alpha1/edges/e1', 400],
    ['/services/agent-proxy/clusters/abc/apis/kedge.faros.sh/v1alpha1/edges/E_1', 400],
    ['/services/agent-proxy/clusters/abc/apis/other.io/v1alpha1/edges/e1', 404],
    ['/services/agent-proxy/clusters/abc/apis/kedge.faros.sh/v1/edges/e1', 404],
    ['/services/agent-proxy/clusters/abc/edges/e1', 404],
    ['/services/agent-proxy/', 404],
    [`${A}/namespaces/Bad_NS/placements/p/status`, 400],
  ])('%s → %i', (path, code) => {
    expect(parseAgentRequest('GET', path)).toMatchObject({ ok: false, code });
  });
});

describe('parseEdgesProxyRequest', () => {
  test('k8s paths keep everything after /k8s', () => {
    expect(parseEdgesProxyRequest(`${E}/k8s/api/v1/namespaces/default/pods/p/exec`)).toEqual({
      ok: true,
      cluster: '2x8fk3tq0s1v9w4b',
      edge: 'e1',
      sub: 'k8s',
      rest: '/api/v1/namespaces/default/pods/p/exec',
    });
    expect(parseEdgesProxyRequest(`${E}/k8s`)).toMatchObject({ ok: true, rest: '/' });
    expect(parseEdgesProxyRequest(`${E}/k8s/`)).toMatchObject({ ok: true, rest: '/' });
  });
  test('ssh', () => {
    expect(parseEdgesProxyRequest(`${E}/ssh`)).toMatchObject({ ok: true, sub: 'ssh' });
  });
  test.each([
    [`${E}`, 404],
    [`${E}/k8sx`, 404],
    [`${E}/proxy`, 404],
    [`${E}/ssh/x`, 404],
    [`${E}/k8s/../../e2/k8s/api`, 400],
    [`${E}/k8s/api/%2F`, 400],
    [`${E}/k8s/a\\b`, 400],
  ])('%s → %i', (path, code) => {
    expect(parseEdgesProxyRequest(path)).toMatchObject({ ok: false, code });
  });
});

test('edgesProxyURL: /k8s for kubernetes edges, /ssh for server edges', () => {
  expect(edgesProxyURL('https://hub:8443/', 'abc', 'e1', 'kubernetes')).toBe(
    'https://hub:8443/services/edges-proxy/clusters/abc/apis/kedge.faros.sh/v1alpha1/edges/e1/k8s',
  );
  expect(edgesProxyURL('https://hub:8443', 'abc', 'e1', 'server')).toBe(
    'https://hub:8443/services/edges-proxy/clusters/abc/apis/kedge.faros.sh/v1alpha1/edges/e1/ssh',
  );
});
