// Registers `kedge ssh` (and `kubectl kedge ssh`) and `kedge ssh-config`. Options are parsed like OpenSSH's: they
// come before the target; every word after it (or after `--`) is the remote command.
import type { Command } from 'commander';
import { errorLine } from './errors.ts';
import { sshInvocation, SSH_FAILURE_STATUS, type SshFlags } from './ssh-args.ts';
import { DEFAULT_SUFFIX, sshConfig } from './ssh-config.ts';
import { CLIError, CLIErrorCode } from './errors.ts';

export interface SshCommandFlags extends SshFlags {
  proxy?: boolean;
  kubeconfig?: string;
  context?: string;
}

export type SshAction = (target: string, words: string[], flags: SshCommandFlags) => Promise<number>;

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const count = (_v: string, prev: number): number => prev + 1;

/** Runs `kedge ssh` for real: resolves the edge, then the session or the proxy (ssh2 and ws load only here). */
export const runSsh: SshAction = async (target, words, flags) => {
  const { resolveSshTarget } = await import('./ssh-target.ts');
  if (flags.proxy) {
    if (words.filter((w) => w !== '--').length > 0)
      throw new CLIError(CLIErrorCode.FlagsInvalid, '--proxy takes only the edge name (OpenSSH sends the command)');
    const { runSshProxy } = await import('./ssh-proxy.ts');
    return runSshProxy(await resolveSshTarget(target, flags), { stdin: process.stdin, stdout: process.stdout });
  }
  const { identityLoginName } = await import('./ssh-identity.ts');
  const inv = sshInvocation(target, words, flags, process.stdin.isTTY === true, identityLoginName(flags));
  if (inv.note) process.stderr.write(`${inv.note}\n`);
  const { runSshSession } = await import('./ssh-session.ts');
  const t = await resolveSshTarget(inv.edge, flags);
  return runSshSession(inv, t, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
};

function flushed(s: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.writableEnded) resolve();
    else s.write('', () => resolve());
  });
}

/** Exits explicitly (stdin may still be open) once everything written has reached stdout and stderr. */
async function exitFlushed(status: number): Promise<void> {
  await flushed(process.stdout);
  await flushed(process.stderr);
  process.exit(status);
}

export function registerSshCommands(
  program: Command,
  action: SshAction = runSsh,
  exit: (status: number) => void | Promise<void> = exitFlushed,
): void {
  // Lets `kedge ssh NAME ls -la` pass `-la` to the remote command instead of parsing it.
  program.enablePositionalOptions();
  program
    .command('ssh')
    .description(
      'open an SSH session on a server edge through the hub (sshd on the host checks your key; the hub only relays)',
    )
    .usage('[options] [user@]NAME [[--] COMMAND...]')
    .argument('<target>', 'the server edge, optionally with the login name: [user@]NAME')
    .argument(
      '[command...]',
      "run this command instead of a login shell: one word is a shell command line (as OpenSSH); several words are arguments, quoted for the remote shell (as kubectl exec: -- sh -c 'exit 7')",
    )
    .option(
      '-l, --login <user>',
      'login name (default: user@ in the target, else the local part of your OIDC email, else root)',
    )
    .option('-i, --identity <file>', 'private key to try (repeatable; after ssh-agent, before ~/.ssh/id_*)', collect)
    .option('-t', 'ask for a PTY even with a command (-tt: even when stdin is not a terminal)', count, 0)
    .option('-T', 'never ask for a PTY')
    .option('-v, --verbose', 'print SSH protocol debug lines on stderr')
    .option(
      '--proxy',
      "raw mode for OpenSSH's ProxyCommand: stdin and stdout are the SSH connection (see 'kedge ssh-config')",
    )
    .option('--kubeconfig <file>', 'kubeconfig with the "kedge" context (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'context to use (default: kedge)')
    .passThroughOptions()
    .addHelpText(
      'after',
      [
        '',
        "Exit status: the remote command's; 128+n when it was killed by signal n; 255 when the connection failed.",
        'Examples:',
        '  kedge ssh pi                    # login shell as you (OIDC: alice@example.com → alice), else root',
        '  kedge ssh admin@pi -- df -h     # one command as admin',
        '  tar c dir | kedge ssh pi -- tar x -C /tmp',
      ].join('\n'),
    )
    .action(async (target: string, words: string[], raw: Record<string, unknown>) => {
      const flags: SshCommandFlags = {
        ...(raw.login !== undefined ? { login: raw.login as string } : {}),
        identity: (raw.identity as string[] | undefined) ?? [],
        tty: raw.t as number,
        noTty: raw.T === true,
        verbose: raw.verbose === true,
        proxy: raw.proxy === true,
        ...(raw.kubeconfig !== undefined ? { kubeconfig: raw.kubeconfig as string } : {}),
        ...(raw.context !== undefined ? { context: raw.context as string } : {}),
      };
      let status: number;
      try {
        status = await action(target, words, flags);
      } catch (err) {
        process.stderr.write(`${errorLine(err)}\n`);
        status = SSH_FAILURE_STATUS;
      }
      await exit(status);
    });

  program
    .command('ssh-config')
    .description('print an OpenSSH config block per server edge and write their pinned host keys to a known_hosts file')
    .argument('[names...]', 'server edges (default: all of the workspace)')
    .option('--suffix <suffix>', 'host alias suffix: Host <edge>.<suffix>', DEFAULT_SUFFIX)
    .option('--known-hosts <file>', 'known_hosts file to write (default: ~/.kedge/known_hosts)')
    .option('--kubeconfig <file>', 'kubeconfig with the "kedge" context; also passed to the ProxyCommand')
    .option('--context <name>', 'context to use (default: kedge); also passed to the ProxyCommand')
    .addHelpText(
      'after',
      '\nExample:\n  kedge ssh-config > ~/.ssh/kedge.conf && ssh -F ~/.ssh/kedge.conf pi.kedge uptime',
    )
    .action(async (names: string[], flags) =>
      sshConfig(
        names,
        flags,
        (l) => console.log(l),
        (l) => console.error(l),
      ),
    );
}
