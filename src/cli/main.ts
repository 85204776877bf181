// kedge (and kubectl-kedge): the user CLI. One file per command; this one only wires them to commander.
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { login } from './login.ts';
import { errorLine } from './errors.ts';

// bin/kedge (the launcher kubectl runs as `kubectl-kedge`) names itself in KEDGE_CLI_NAME.
const invokedAs = process.env.KEDGE_CLI_NAME ?? process.argv[1] ?? '';
delete process.env.KEDGE_CLI_NAME; // not inherited by what the CLI runs (ssh's ProxyCommand, kubectl's exec plugin)
const program = new Command(invokedAs.endsWith('kubectl-kedge') ? 'kubectl kedge' : 'kedge')
  .description('Kedge CLI: log in to a Kedge hub and work with edges and workloads')
  .showHelpAfterError();

program
  .command('login')
  .description(
    'log in to a hub (OIDC in the browser or with a device code, or a static token) and write a "kedge" context into your kubeconfig',
  )
  .requiredOption('--hub-url <url>', 'hub URL, e.g. https://127.0.0.1:8443')
  .option('--token-file <file>', 'file whose first line is the static token issued by the hub operator')
  .option(
    '--token <token>',
    'the static token itself (visible to other local users in ps; prefer --token-file or $KEDGE_TOKEN)',
  )
  .option('--certificate-authority <file>', "CA file that signed the hub's certificate")
  .option('--insecure-skip-tls-verify', 'do not verify the hub certificate (development only)')
  .option('--kubeconfig <file>', 'kubeconfig to write (default: $KUBECONFIG or ~/.kube/config)')
  .option('--no-browser', 'OIDC: print the login URL instead of opening a browser')
  .option('--device', 'OIDC: log in with a device code on another device (hosts without a browser)')
  .option(
    '--oidc-ca-file <file>',
    "OIDC: CA of the issuer's certificate (default: the one the hub names, else the system roots)",
  )
  .option('--timeout <seconds>', 'OIDC: how long to wait for the browser login', '300')
  .addHelpText(
    'after',
    [
      '',
      'Without a token, the hub says which login it offers (GET /auth/config). With OIDC the "kedge" context runs',
      "'kedge get-token' for credentials (kubectl's exec plugin); the tokens are cached in",
      '${XDG_CACHE_HOME:-~/.cache}/kedge/tokens, never in the kubeconfig.',
      'Examples:',
      '  kedge login --hub-url https://hub.example:8443                       # OIDC: opens a browser',
      '  kedge login --hub-url https://hub.example:8443 --device              # OIDC on a headless host',
      '  kedge login --hub-url https://hub.example:8443 --token-file ./token  # static token',
    ].join('\n'),
  )
  .action(async (flags) =>
    login(
      flags,
      (l) => console.log(l),
      (l) => console.error(l),
    ),
  );

program
  .command('get-token')
  .description(
    "print the OIDC credential for a hub as kubectl's exec plugin wants it (renews it; never opens a browser)",
  )
  .requiredOption('--hub-url <url>', 'hub URL the login was made at')
  .action(async (flags: { hubUrl: string }) => {
    const { getToken } = await import('./get-token.ts');
    process.stdout.write(`${JSON.stringify(await getToken(flags))}\n`);
  });

// kubectl runs `kedge get-token` before each of its requests: that alone skips loading the other commands (edge and
// ssh pull in the Kubernetes client and ssh2, ≈1.2 s of start-up).
if (process.argv[2] !== 'get-token') {
  (await import('./edge.ts')).registerEdgeCommands(program);
  (await import('./ssh.ts')).registerSshCommands(program);
  (await import('./workspace.ts')).registerWorkspaceCommands(program);
  (await import('./agent.ts')).registerAgentCommand(program);
}

program
  .command('version')
  .description('print the CLI version')
  .action(() => console.log(`kedge ${VERSION}`));

try {
  await program.parseAsync();
} catch (err) {
  console.error(errorLine(err));
  process.exitCode = 1;
}
