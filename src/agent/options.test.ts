import { describe, expect, it } from '@jest/globals';
import { AgentError } from './errors.ts';
import {
  SERVICE_ACCOUNT_NAMESPACE_FILE,
  agentConfig,
  edgeBaseURL,
  formatSshAddress,
  parseSshAddress,
} from './options.ts';

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
      defaultEdgeRbac: true,
      type: 'kubernetes',
    });
    expect(agentConfig({ ...ok, defaultEdgeRbac: false }, {})).toMatchObject({ defaultEdgeRbac: false });
    expect(agentConfig(ok, {})).toMatchObject({ type: 'kubernetes', kubeconfig: undefined });
  });

  it('reads the join token from the first line of --token-file, and refuses a missing or empty file', () => {
    const files: Record<string, string> = { '/run/creds/join-token': 'tok-123  \nsecond line\n', '/empty': '\n' };
    const read = (f: string): string => {
      const text = files[f];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    };
    expect(agentConfig({ ...ok, tokenFile: '/run/creds/join-token' }, {}, read).joinToken).toBe('tok-123');
    expect(() => agentConfig({ ...ok, tokenFile: '/missing' }, {}, read)).toThrow('--token-file /missing: ENOENT');
    expect(() => agentConfig({ ...ok, tokenFile: '/empty' }, {}, read)).toThrow('--token-file /empty is empty');
    expect(() => agentConfig({ ...ok, token: 't', tokenFile: '/empty' }, {}, read)).toThrow(
      '--token and --token-file exclude each other',
    );
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

  it('refuses credentials or a query in the hub URL, and unknown types', () => {
    expect(() => agentConfig({ ...ok, hubUrl: 'https://u:p@hub' }, {})).toThrow(/must not carry credentials/);
    expect(() => agentConfig({ ...ok, hubUrl: 'https://hub/?token=x' }, {})).toThrow(/query/);
    expect(() => agentConfig({ ...ok, type: 'vm' }, {})).toThrow(/--type must be kubernetes or server/);
  });

  it('server mode: no Kubernetes settings ($KUBECONFIG ignored), host-key scan every 5 m, sshd from the Edge', () => {
    expect(agentConfig({ ...ok, type: 'server' }, { HOME: '/home/u', KUBECONFIG: '/k/a' })).toEqual({
      hubURL: 'https://hub.example:8443',
      cluster: '2x8fk3tq',
      edge: 'eu-1',
      joinToken: undefined,
      stateDir: '/home/u/.kedge-agent/eu-1',
      hubCAFile: undefined,
      insecureSkipTLSVerify: false,
      heartbeatIntervalMs: 30_000,
      keepAliveIntervalMs: 15_000,
      keepAliveTimeoutMs: 10_000,
      type: 'server',
      sshAddress: undefined,
      hostKeyIntervalMs: 300_000,
    });
    expect(agentConfig({ ...ok, type: 'server', sshAddress: '[::1]:2222', hostKeyInterval: '90s' }, {})).toMatchObject({
      sshAddress: { host: '::1', port: 2222 },
      hostKeyIntervalMs: 90_000,
    });
  });

  it("refuses the other mode's flags, naming each", () => {
    expect.assertions(7);
    try {
      agentConfig(
        { ...ok, type: 'server', kubeconfig: 'k', context: 'c', resyncInterval: '1m', defaultEdgeRbac: false },
        {},
      );
    } catch (err) {
      const msg = (err as AgentError).message;
      expect(msg).toContain('--kubeconfig is for --type kubernetes');
      expect(msg).toContain('--context is for --type kubernetes');
      expect(msg).toContain('--resync-interval is for --type kubernetes');
      expect(msg).toContain('--no-default-edge-rbac is for --type kubernetes');
    }
    try {
      agentConfig({ ...ok, sshAddress: '127.0.0.1:22', hostKeyInterval: '1m' }, {});
    } catch (err) {
      const msg = (err as AgentError).message;
      expect(msg).toContain('--ssh-address is for --type server');
      expect(msg).toContain('--host-key-interval is for --type server');
    }
    expect(() => agentConfig({ ...ok, type: 'server', sshAddress: 'localhost' }, {})).toThrow(
      /--ssh-address "localhost" is not host:port/,
    );
  });

  it('in a pod: --leader-elect and --credential-secret in $POD_NAMESPACE or the service account namespace', () => {
    const sa = (f: string): string => {
      if (f === SERVICE_ACCOUNT_NAMESPACE_FILE) return 'edge-system\n';
      throw new Error('ENOENT');
    };
    const none = (): string => {
      throw new Error('ENOENT');
    };
    expect(agentConfig({ ...ok, leaderElect: true, credentialSecret: 'kedge-cred' }, {}, sa)).toMatchObject({
      leaderElection: { namespace: 'edge-system', leaseName: 'kedge-agent-eu-1' },
      credentialSecret: { namespace: 'edge-system', name: 'kedge-cred' },
    });
    const fromEnv = agentConfig({ ...ok, leaderElect: true, leaseName: 'l' }, { POD_NAMESPACE: 'ns1' }, sa);
    expect(fromEnv).toMatchObject({ leaderElection: { namespace: 'ns1', leaseName: 'l' } });
    expect(fromEnv).not.toHaveProperty('credentialSecret');
    expect(agentConfig({ ...ok, credentialSecret: 's', namespace: 'ns2' }, {}, none)).toMatchObject({
      credentialSecret: { namespace: 'ns2', name: 's' },
    });
    expect(agentConfig(ok, {}, none)).not.toHaveProperty('leaderElection');
    expect(() => agentConfig({ ...ok, leaderElect: true }, {}, none)).toThrow(
      /--namespace is required with --leader-elect or --credential-secret outside a pod/,
    );
    expect(() => agentConfig({ ...ok, namespace: 'x' }, {}, sa)).toThrow(
      '--namespace needs --leader-elect or --credential-secret',
    );
    expect(() => agentConfig({ ...ok, credentialSecret: 's', leaseName: 'l' }, {}, sa)).toThrow(
      '--lease-name needs --leader-elect',
    );
    expect(() => agentConfig({ ...ok, credentialSecret: 'Bad_Name', namespace: 'UP' }, {}, sa)).toThrow(
      /--namespace "UP" is not a namespace name; --credential-secret "Bad_Name" is not a valid Secret name/,
    );
    expect(() => agentConfig({ ...ok, type: 'server', leaderElect: true, credentialSecret: 's' }, {}, sa)).toThrow(
      /--leader-elect is for --type kubernetes.*--credential-secret is for --type kubernetes/,
    );
  });

  it('parses and prints ssh addresses', () => {
    expect(parseSshAddress('127.0.0.1:22')).toEqual({ host: '127.0.0.1', port: 22 });
    expect(parseSshAddress(' sshd.local:2222 ')).toEqual({ host: 'sshd.local', port: 2222 });
    expect(parseSshAddress('[fe80::1]:22')).toEqual({ host: 'fe80::1', port: 22 });
    for (const bad of ['', ':22', 'host', 'host:', 'host:0', 'host:65536', '::1:22', 'u@host:22', 'h/x:22', 'host:2x'])
      expect(parseSshAddress(bad)).toBeUndefined();
    expect(formatSshAddress({ host: '::1', port: 22 })).toBe('[::1]:22');
    expect(formatSshAddress({ host: 'h', port: 2 })).toBe('h:2');
  });

  it('addresses the agent-proxy of the edge', () => {
    expect(edgeBaseURL(agentConfig(ok, {}))).toBe(
      'https://hub.example:8443/services/agent-proxy/clusters/2x8fk3tq/apis/kedge.faros.sh/v1alpha1/edges/eu-1',
    );
  });
});
