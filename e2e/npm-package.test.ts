// The npm package (the Raspberry Pi path): `npm pack` of a copy of the checkout (its prepack compiles dist/, which
// must never land in the checkout itself: the launchers prefer dist/ over the sources), `npm install -g` of the
// tarball into an empty prefix on the test's Node 24, and its four commands run from that prefix alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, type RunResult } from './harness/cli.ts';

const repo = new URL('../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kedge-npm-package-'));
const [copy, prefix] = [join(dir, 'checkout'), join(dir, 'prefix')];
const installed = join(prefix, 'lib', 'node_modules', 'kedge');
// Only the prefix and Node 24 (the directory of the test's own node): nothing of the checkout is reachable.
const PATH = `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`;
let tarball = '';
const hadDist = existsSync(join(repo, 'dist')); // `make build` may have made one; packing must not

const npm = (args: string[], cwd: string): Promise<RunResult> =>
  run('bash', ['-c', 'cd "$0" && exec npm "$@"', cwd, ...args], { timeoutMs: 240_000, env: { PATH } });
const fromPrefix = (cmd: string, args: string[]): Promise<RunResult> =>
  run(join(prefix, 'bin', cmd), args, { env: { PATH, HOME: dir } });

beforeAll(async () => {
  for (const f of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'bin',
    'src',
    'crds',
    'config',
  ])
    cpSync(join(repo, f), join(copy, f), { recursive: true, verbatimSymlinks: true });
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
  const pack = await npm(['pack', '--pack-destination', dir, '--loglevel=error'], copy);
  if (pack.code !== 0) throw new Error(`npm pack: ${pack.stderr}`);
  tarball = join(dir, pack.stdout.trim().split('\n').at(-1) ?? '');
  const install = await npm(
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
    dir,
  );
  if (install.code !== 0) throw new Error(`npm install -g: ${install.stderr}`);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm package', () => {
  it('installs kedge, kubectl-kedge, kedge-agent and kedge-hub, which run from the prefix', async () => {
    expect(readdirSync(join(prefix, 'bin')).sort()).toEqual(['kedge', 'kedge-agent', 'kedge-hub', 'kubectl-kedge']);
    expect(await fromPrefix('kedge', ['version'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^kedge \d/),
    });
    expect((await fromPrefix('kubectl-kedge', ['--help'])).stdout).toMatch(/^Usage: kubectl kedge /);
    expect(await fromPrefix('kedge-agent', ['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Usage: kedge-agent/),
    });
    expect(await fromPrefix('kedge-hub', ['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Usage: kedge-hub/),
    });
    // A bad flag is the agent's own clear error (exit 2), so the compiled code really ran.
    const bad = await fromPrefix('kedge-agent', ['--edge', 'pi']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cluster is required/);
  }, 60_000);

  it('ships compiled JavaScript and runtime dependencies only', () => {
    expect(existsSync(join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const deps = readdirSync(join(installed, 'node_modules'));
    for (const dev of ['jest', 'typescript', 'eslint', 'prettier', '@swc', 'playwright-core'])
      expect(deps).not.toContain(dev);
    expect(deps).toEqual(expect.arrayContaining(['commander', '@kubernetes', 'ssh2', 'ws']));
    // The checkout was packed from a copy: no dist/ appeared in it.
    expect(existsSync(join(repo, 'dist'))).toBe(hadDist);
  });
});
