import { describe, expect, test } from '@jest/globals';
import { Command } from 'commander';
import { CLIError, CLIErrorCode } from './errors.ts';
import { registerSshCommands, type SshCommandFlags } from './ssh.ts';

/** Parses argv with the real command definitions; returns what the action got and the exit status. */
async function parse(argv: string[], fail?: Error) {
  const got: { target?: string; words?: string[]; flags?: SshCommandFlags; status?: number } = {};
  const p = new Command('kedge').exitOverride();
  registerSshCommands(
    p,
    async (target, words, flags) => {
      Object.assign(got, { target, words, flags });
      if (fail) throw fail;
      return 7;
    },
    (status) => {
      got.status = status;
    },
  );
  await p.parseAsync(argv, { from: 'user' });
  return got;
}

describe('kedge ssh command line', () => {
  test('options before the target; everything after it is the command', async () => {
    const got = await parse(['ssh', '-tt', '-i', 'a', '-i', 'b', '-l', 'bob', 'pi', 'ls', '-la']);
    expect(got).toEqual({
      target: 'pi',
      words: ['ls', '-la'],
      flags: { login: 'bob', identity: ['a', 'b'], tty: 2, noTty: false, verbose: false, proxy: false },
      status: 7,
    });
  });

  test('-- and user@name', async () => {
    const got = await parse(['ssh', '-T', 'admin@pi', '--', 'sh', '-c', 'exit 7']);
    expect(got.target).toBe('admin@pi');
    expect(got.words).toEqual(['--', 'sh', '-c', 'exit 7']);
    expect(got.flags).toMatchObject({ noTty: true, tty: 0 });
  });

  test('--proxy with kubeconfig and context', async () => {
    const got = await parse(['ssh', '--proxy', 'pi', '--kubeconfig', '/k', '--context', 'c']);
    expect(got.flags).toMatchObject({ proxy: true });
    // After the target, options pass through to the command words (as OpenSSH): these must come first.
    expect(got.words).toEqual(['--kubeconfig', '/k', '--context', 'c']);
    const first = await parse(['ssh', '--proxy', '--kubeconfig', '/k', '--context', 'c', 'pi']);
    expect(first.flags).toMatchObject({ proxy: true, kubeconfig: '/k', context: 'c' });
    expect(first.words).toEqual([]);
  });

  test('a failure of kedge itself exits 255, like OpenSSH', async () => {
    const got = await parse(['ssh', 'pi'], new CLIError(CLIErrorCode.SshConnectionLost, 'gone'));
    expect(got.status).toBe(255);
  });
});
