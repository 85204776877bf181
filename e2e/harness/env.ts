// The environment the global setup creates once per test run (one real kcp) and every suite reads.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface TestEnv {
  workDir: string;
  kcpURL: string;
  kcpCAFile: string;
  kcpAdminKubeconfig: string;
  kcpLogFile: string;
  kcpPid: number;
  /** kcp's TokenReview webhook points at this port: suites start their hub here, one at a time. */
  hubPort: number;
  hubDataDir: string;
  hubCAFile: string;
  hubCertFile: string;
  hubKeyFile: string;
}

export const ENV_FILE_VAR = 'KEDGE_TEST_ENV_FILE';

export function loadTestEnv(): TestEnv {
  const file = process.env[ENV_FILE_VAR];
  if (!file)
    throw new Error(`${ENV_FILE_VAR} is not set: run integration tests through jest (the global setup starts kcp)`);
  return JSON.parse(readFileSync(file, 'utf8')) as TestEnv;
}

export function toolsBin(): string {
  return join(process.env.KEDGE_CACHE ?? join(homedir(), '.cache', 'kedge'), 'bin');
}

export function tool(name: string): string {
  return join(toolsBin(), name);
}
