import { describe, expect, test } from '@jest/globals';
import { isKedgeError } from '../api/errors.ts';
import { remoteCommand, remoteExitStatus, sshInvocation, sshTarget, wantsPty } from './ssh-args.ts';

describe('kedge ssh target and login name', () => {
  test.each([
    ['pi', undefined, undefined, { edge: 'pi', user: 'root' }],
    ['admin@pi', undefined, undefined, { edge: 'pi', user: 'admin' }],
    ['admin@pi', 'bob', undefined, { edge: 'pi', user: 'bob' }],
    ['pi', 'bob', undefined, { edge: 'pi', user: 'bob' }],
    ['pi', undefined, 'alice', { edge: 'pi', user: 'alice' }],
    ['admin@pi', undefined, 'alice', { edge: 'pi', user: 'admin' }],
    ['a@b@pi', undefined, undefined, { edge: 'pi', user: 'a@b' }],
  ])('%s with -l %s and identity %s', (target, login, identityUser, want) => {
    expect(sshTarget(target, login, identityUser)).toEqual(want);
  });

  test.each([['pi@'], ['@pi']])('%s is refused as malformed', (target) => {
    expect.assertions(1);
    try {
      sshTarget(target, undefined);
    } catch (err) {
      expect(isKedgeError(err, 'KEDGE_CLI_FLAGS_INVALID')).toBe(true);
    }
  });
});

describe('PTY decision (as OpenSSH)', () => {
  test.each([
    // hasCommand, -t count, -T, stdin is a TTY → pty, note?
    [false, 0, false, true, true, false],
    [false, 0, false, false, false, false],
    [true, 0, false, true, false, false],
    [true, 1, false, true, true, false],
    [true, 1, false, false, false, true],
    [false, 1, false, false, false, true],
    [true, 2, false, false, true, false],
    [false, 2, false, false, true, false],
    [false, 0, true, true, false, false],
    [true, 0, true, true, false, false],
  ])('command=%s -t×%d -T=%s tty=%s → pty %s (note %s)', (cmd, t, T, tty, pty, note) => {
    const d = wantsPty(cmd, t, T, tty);
    expect(d.pty).toBe(pty);
    expect(d.note !== undefined).toBe(note);
  });
});

describe('sshInvocation', () => {
  test('one word is a command line; several are arguments, quoted where the remote shell would split them', () => {
    expect(remoteCommand(['echo out; echo err >&2'])).toBe('echo out; echo err >&2');
    expect(remoteCommand(['sh', '-c', 'exit 7'])).toBe("sh -c 'exit 7'");
    expect(remoteCommand(['echo', "it's", '$HOME', 'a=b', '/tmp/x.y'])).toBe(`echo 'it'\\''s' '$HOME' a=b /tmp/x.y`);
    expect(remoteCommand([])).toBeUndefined();
  });
  test('quotes the command words and drops a leading --', () => {
    expect(sshInvocation('admin@pi', ['--', 'sh', '-c', 'exit 7'], { identity: ['k'] }, true)).toEqual({
      edge: 'pi',
      user: 'admin',
      command: "sh -c 'exit 7'",
      pty: false,
      identities: ['k'],
      verbose: false,
    });
  });

  test('keeps a -- inside the command, and no command means a login shell', () => {
    expect(sshInvocation('pi', ['--', 'x', '--', 'y'], {}, false).command).toBe('x -- y');
    expect(sshInvocation('pi', ['--'], {}, true)).toMatchObject({ command: undefined, pty: true });
    expect(sshInvocation('pi', [], {}, false)).toMatchObject({ command: undefined, pty: false });
  });

  test('-t with -T is refused', () => {
    expect(() => sshInvocation('pi', [], { tty: 1, noTty: true }, true)).toThrow('use either -t or -T');
  });
});

describe('exit status', () => {
  test.each([
    [0, undefined, 0],
    [7, undefined, 7],
    [255, undefined, 255],
    [256 + 3, undefined, 3],
    [null, 'SIGTERM', 143],
    [null, 'SIGKILL', 137],
    [null, 'SIGINT', 130],
    [null, 'SIGHUP', 129],
    [null, 'SIGPIPE', 141],
    [null, 'SIGSEGV', 139],
    [null, 'SIGUSR1', 138],
    [null, 'SIGWINCH', 128 + 28],
    [null, 'SIGNOPE', 255],
    [undefined, undefined, 255],
  ])('code %s signal %s → %d', (code, signal, want) => {
    expect(remoteExitStatus(code, signal)).toBe(want);
  });
});
