// `kubectl kedge` as a real kubectl plugin: kubectl finds bin/kubectl-kedge on PATH and runs it, and the launcher
// picks a Node that can load the CLI even when the `node` first on PATH is too old (here a stand-in that fails).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../src/version.ts';
import { run } from './harness/cli.ts';
import { tool, toolsBin } from './harness/env.ts';

const repo = new URL('../', import.meta.url).pathname;
let dir = '';
let env: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kedge-plugin-'));
  symlinkSync(join(repo, 'bin', 'kubectl-kedge'), join(dir, 'kubectl-kedge'));
  // An old system Node, as on a Debian with Node 20: first on PATH, and unable to run the TypeScript sources.
  writeFileSync(join(dir, 'node'), '#!/bin/sh\necho "v20.0.0"; exit 1\n', { mode: 0o755 });
  env = { PATH: `${dir}:${toolsBin()}:/usr/bin:/bin`, KEDGE_NODE: '' };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubectl kedge', () => {
  it('is listed by `kubectl plugin list` without a warning about it', async () => {
    const r = await run(tool('kubectl'), ['plugin', 'list'], { env });
    expect(r.stdout).toContain(join(dir, 'kubectl-kedge'));
    // kcp's own kubectl-create-workspace draws a warning of its own; none may name ours.
    expect(r.stderr.split('\n').filter((l) => l.includes('kubectl-kedge'))).toEqual([]);
  });

  it('runs through kubectl on the project Node although an old `node` comes first on PATH', async () => {
    const version = await run(tool('kubectl'), ['kedge', 'version'], { env });
    expect([version.code, version.stdout.trim()]).toEqual([0, `kedge ${VERSION}`]);
    const help = await run(tool('kubectl'), ['kedge', '--help'], { env });
    expect(help.stdout).toMatch(/^Usage: kubectl kedge /);
  });

  it('passes arguments and the exit status through', async () => {
    const r = await run(tool('kubectl'), ['kedge', 'edge', 'get', 'x', '--kubeconfig', join(dir, 'missing')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[KEDGE_CLI_NOT_LOGGED_IN\]/);
  });

  it('skips a KEDGE_NODE that cannot run it', async () => {
    const r = await run('/bin/sh', [join(dir, 'kubectl-kedge'), 'version'], {
      env: { ...env, KEDGE_NODE: join(dir, 'node') },
    });
    // The project Node is still found after KEDGE_NODE fails its check.
    expect([r.code, r.stdout.trim()]).toEqual([0, `kedge ${VERSION}`]);
  });
});
