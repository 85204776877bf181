// Stops the kcp the global setup started and removes its data unless KEDGE_TEST_KEEP is set.
import { rmSync } from 'node:fs';
import { loadTestEnv } from './env.ts';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__kedgeKcp?.stop();
  if (!process.env.KEDGE_TEST_KEEP) rmSync(loadTestEnv().workDir, { recursive: true, force: true });
}
