import { describe, expect, it } from '@jest/globals';
import { AgentError } from './errors.ts';
import { agentConfig, edgeBaseURL } from './options.ts';

const ok = { hubUrl: 'https://hub.example:8443/', cluster: '2x8fk3tq', edge: 'eu-1' };

describe('agentConfig', () => {
  it('fills defaults: state dir under HOME, KUBECONFIG, 30 s heartbeat', () => {
    expect(agentConfig(ok, { HOME: '/home/u', KUBECONFIG: '/k/a:/k/b' })).toEqual({
      hubURL: 'https://hub.example:8443',
      cluster: '2x8fk3tq',
      edge: 'eu-1',
      joinToken: undefined,
      stateDir: '/home/u/.kedge-agent/eu-1',
      kubeconfig: '/k/a:/k/b',
      context: undefined,
      hubCAFile: undefined,
      insecureSkipTLSVerify: false,
      heartbeatIntervalMs: 30_000,
      keepAliveIntervalMs: 15_000,
      keepAliveTimeoutMs: 10_000,
      resyncIntervalMs: 60_000,
      type: 'kubernetes',
    });
    expect(agentConfig(ok, {}).kubeconfig).toBeUndefined();
  });

  it('reports every bad flag at once, naming each', () => {
    expect.assertions(5);
    try {
      agentConfig(
        {
          hubUrl: 'hub:8443/x?token=a',
          edge: 'Eu_1',
          heartbeatInterval: 'soon',
          hubCaFile: 'ca',
          insecureSkipTlsVerify: true,
        },
        {},
      );
    } catch (err) {
      expect(err).toBeInstanceOf(AgentError);
      const msg = (err as AgentError).message;
      expect(msg).toContain('--cluster is required');
      expect(msg).toContain('--edge "Eu_1" is not a valid Edge name');
      expect(msg).toContain('--heartbeat-interval "soon" is not a duration');
      expect(msg).toContain('exclude each other');
    }
  });

  it('refuses credentials or a query in the hub URL, and server mode for now', () => {
    expect(() => agentConfig({ ...ok, hubUrl: 'https://u:p@hub' }, {})).toThrow(/must not carry credentials/);
    expect(() => agentConfig({ ...ok, hubUrl: 'https://hub/?token=x' }, {})).toThrow(/query/);
    expect(() => agentConfig({ ...ok, type: 'server' }, {})).toThrow(/not implemented yet/);
    expect(() => agentConfig({ ...ok, type: 'vm' }, {})).toThrow(/--type must be kubernetes or server/);
  });

  it('addresses the agent-proxy of the edge', () => {
    expect(edgeBaseURL(agentConfig(ok, {}))).toBe(
      'https://hub.example:8443/services/agent-proxy/clusters/2x8fk3tq/apis/kedge.faros.sh/v1alpha1/edges/eu-1',
    );
  });
});
