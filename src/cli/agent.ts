// `kedge agent join`: runs the edge agent in the foreground (same flags and behaviour as `kedge-agent`).
import type { Command } from 'commander';
import { runAgentCommand } from '../agent/command.ts';
import { AGENT_HELP, addAgentOptions } from '../agent/options.ts';
import type { AgentFlags } from '../agent/options.ts';
import { registerAgentInstallCommand } from './agent-install.ts';

export function registerAgentCommand(program: Command): void {
  const agent = program.command('agent').description('run the Kedge edge agent on this site');
  addAgentOptions(
    agent
      .command('join')
      .description('join this site to a hub and run the agent (reuses the stored credential after the first run)'),
  )
    .addHelpText('after', AGENT_HELP)
    .action(async (flags: AgentFlags) => {
      process.exitCode = await runAgentCommand(flags);
    });
  registerAgentInstallCommand(agent);
}
