// kedge-agent: command-line entry of the edge agent (flags in options.ts, run loop in command.ts).
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { runAgentCommand } from './command.ts';
import { AGENT_HELP, addAgentOptions } from './options.ts';
import type { AgentFlags } from './options.ts';

const program = addAgentOptions(
  new Command('kedge-agent')
    .description('Kedge edge agent: connects this site to a Kedge hub through an outbound tunnel')
    .version(VERSION)
    .showHelpAfterError(),
).addHelpText('after', AGENT_HELP);

program.parse();
process.exitCode = await runAgentCommand(program.opts<AgentFlags>());
// Open handles (a watch being torn down, keep-alive sockets) must not keep a stopped agent alive.
setTimeout(() => process.exit(), 2_000).unref();
