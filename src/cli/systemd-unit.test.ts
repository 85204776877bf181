import { describe, expect, it } from '@jest/globals';
import { agentUnitName, execWord, renderAgentUnit } from './systemd-unit.ts';

const base = {
  edge: 'pi',
  hubURL: 'https://hub.example:8443',
  cluster: 'abc123',
  node: '/usr/bin/node',
  agentScript: '/usr/lib/node_modules/kedge/bin/kedge-agent.js',
  tokenFile: '/etc/kedge-agent/pi/join-token',
};
const lines = (unit: string): string[] => unit.split('\n');

describe('execWord', () => {
  it('doubles systemd specifiers and variables, and quotes what the unit parser would split', () => {
    expect(execWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(execWord('a%b$c')).toBe('a%%b$$c');
    expect(execWord('${STATE_DIRECTORY}', { expand: true })).toBe('${STATE_DIRECTORY}');
    expect(execWord('two words')).toBe('"two words"');
    expect(execWord('say "hi" \\ ;')).toBe('"say \\"hi\\" \\\\ ;"');
    expect(execWord('')).toBe('""');
  });
});

describe('renderAgentUnit', () => {
  it('runs the server agent with the token and CA as systemd credentials, never on the command line', () => {
    const unit = renderAgentUnit({ ...base, hubCAFile: '/etc/kedge-agent/pi/hub-ca.crt' });
    expect(agentUnitName('pi')).toBe('kedge-agent-pi.service');
    expect(lines(unit)).toContain(
      'ExecStart=/usr/bin/node /usr/lib/node_modules/kedge/bin/kedge-agent.js --type server --hub-url https://hub.example:8443 --cluster abc123 --edge pi --state-dir ${STATE_DIRECTORY} --token-file ${CREDENTIALS_DIRECTORY}/join-token --hub-ca-file ${CREDENTIALS_DIRECTORY}/hub-ca',
    );
    expect(lines(unit)).toEqual(
      expect.arrayContaining([
        'LoadCredential=join-token:/etc/kedge-agent/pi/join-token',
        'LoadCredential=hub-ca:/etc/kedge-agent/pi/hub-ca.crt',
        'DynamicUser=yes',
        'StateDirectory=kedge-agent/pi',
        'Restart=on-failure',
        'RestartPreventExitStatus=2 3',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'CapabilityBoundingSet=',
        'WantedBy=multi-user.target',
      ]),
    );
    expect(unit).not.toMatch(/MemoryDenyWriteExecute=yes/); // V8's JIT
  });

  it('runs as a named user when given, reads a home-directory install read-only, and passes --ssh-address', () => {
    const unit = renderAgentUnit({ ...base, user: 'kedge', node: '/home/pi/.nvm/node', sshAddress: '127.0.0.1:2222' });
    expect(lines(unit)).toEqual(expect.arrayContaining(['User=kedge', 'DynamicUser=no', 'ProtectHome=read-only']));
    expect(unit).toMatch(/ --ssh-address 127\.0\.0\.1:2222$/m);
    expect(unit).not.toMatch(/hub-ca/);
  });
});
