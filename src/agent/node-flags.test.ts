import { describe, expect, it } from '@jest/globals';
import { AGENT_NODE_FLAGS, missingNodeFlags, nodeFlagName, reexecArgs } from './node-flags.ts';

const DEFAULTS = ['--max-semi-space-size=1', '--optimize-for-size'];

describe('nodeFlagName', () => {
  it.each([
    ['--max-semi-space-size=1', 'max-semi-space-size'],
    ['--max_semi_space_size=16', 'max-semi-space-size'],
    ['--optimize-for-size', 'optimize-for-size'],
    ['--no-optimize-for-size', 'optimize-for-size'],
    ['--no_optimize_for_size', 'optimize-for-size'],
    ['-r', 'r'],
  ])('%s → %s', (flag, name) => expect(nodeFlagName(flag)).toBe(name));
});

describe('missingNodeFlags', () => {
  it.each<[string, string[], string | undefined, string[]]>([
    ['nothing given: every default', [], undefined, DEFAULTS],
    ['empty NODE_OPTIONS: every default', [], '', DEFAULTS],
    ['the user sizes the young generation in NODE_OPTIONS', [], '--max-semi-space-size=16', ['--optimize-for-size']],
    ['underscores in NODE_OPTIONS', [], '  --max_semi_space_size=8  --inspect', ['--optimize-for-size']],
    ['turned off on the command line', ['--no-optimize-for-size'], undefined, ['--max-semi-space-size=1']],
    ['both given', ['--optimize-for-size'], '--max-semi-space-size=4', []],
    ['after the re-exec: all in place', ['--max-semi-space-size=1', '--optimize-for-size'], undefined, []],
    ['unrelated flags change nothing', ['--enable-source-maps'], '--import=x.js --max-old-space-size=64', DEFAULTS],
  ])('%s', (_what, execArgv, nodeOptions, want) =>
    expect(missingNodeFlags(DEFAULTS, execArgv, nodeOptions)).toEqual(want),
  );
});

describe('reexecArgs', () => {
  const proc = {
    execPath: '/usr/bin/node',
    execArgv: ['--enable-source-maps'],
    argv: ['/usr/bin/node', '/a/bin/kedge-agent.js', '--type', 'server'],
  };

  it('puts the missing flags before node’s own options and the script with its arguments', () => {
    expect(reexecArgs(proc, undefined, DEFAULTS)).toEqual([
      '/usr/bin/node',
      '--max-semi-space-size=1',
      '--optimize-for-size',
      '--enable-source-maps',
      '/a/bin/kedge-agent.js',
      '--type',
      'server',
    ]);
  });

  it('adds only what the user left unset', () => {
    expect(reexecArgs(proc, '--max-semi-space-size=16', DEFAULTS)).toEqual([
      '/usr/bin/node',
      '--optimize-for-size',
      '--enable-source-maps',
      '/a/bin/kedge-agent.js',
      '--type',
      'server',
    ]);
  });

  it('is undefined once the defaults are in place (a re-executed agent does not re-execute)', () => {
    const again = reexecArgs(proc, undefined, DEFAULTS) ?? [];
    expect(
      reexecArgs({ execPath: '/usr/bin/node', execArgv: again.slice(1, 4), argv: proc.argv }, undefined, DEFAULTS),
    ).toBeUndefined();
  });

  it('uses the agent’s defaults unless told otherwise', () => {
    expect(reexecArgs({ ...proc, execArgv: [] }, undefined)).toEqual([
      '/usr/bin/node',
      ...AGENT_NODE_FLAGS,
      ...proc.argv.slice(1),
    ]);
  });
});
