// Runs the agent from parsed flags until SIGINT/SIGTERM or a fatal error; shared by `kedge-agent` and
// `kedge agent join`. Turns AgentErrors into one clear line on stderr and the documented exit code.
import { readFileSync } from 'node:fs';
import { createLogger } from '../util/logger.ts';
import { startAgent } from './agent.ts';
import { AgentError, exitCodeFor } from './errors.ts';
import { agentConfig } from './options.ts';
import type { AgentFlags } from './options.ts';

/** Resolves with the process exit code. */
export async function runAgentCommand(flags: AgentFlags): Promise<number> {
  const logger = createLogger('kedge-agent');
  try {
    const cfg = agentConfig(flags, process.env, (f) => readFileSync(f, 'utf8'));
    const agent = await startAgent(cfg, logger);
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const outcome = await Promise.race([agent.done, signalled]);
    await agent.stop();
    if (outcome instanceof AgentError) return report(outcome, logger);
    if (outcome instanceof Error) throw outcome;
    logger.info({ signal: outcome }, 'agent stopped');
    return 0;
  } catch (err) {
    if (err instanceof AgentError) return report(err, logger);
    logger.error({ err }, 'agent failed');
    process.stderr.write(`kedge-agent: ${(err as Error).message}\n`);
    return 1;
  }
}

function report(err: AgentError, logger: ReturnType<typeof createLogger>): number {
  logger.error({ code: err.code }, err.message);
  process.stderr.write(`kedge-agent: ${err.message}\n`);
  return exitCodeFor(err.code);
}
