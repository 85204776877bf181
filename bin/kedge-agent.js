#!/usr/bin/env node
// Launcher: the compiled build when present (npm package, container), else the TypeScript source
// (Node >= 22.18 strips types natively). Keeps 'make run' free of a build step.
import { existsSync } from 'node:fs';
const load = (/** @type {string} */ m) => {
  const compiled = new URL(`../dist/${m}.js`, import.meta.url);
  return import(existsSync(compiled) ? compiled.href : new URL(`../src/${m}.ts`, import.meta.url).href);
};
// V8 sizes its heap only when it starts: run again (same pid) with the agent's default Node flags the user did not
// set (src/agent/node-flags.ts says which and why), before anything else loads. Where execve is missing or refused,
// the agent runs as it is.
const { reexecArgs } = await load('agent/node-flags');
const reexec = typeof process.execve === 'function' ? reexecArgs(process, process.env.NODE_OPTIONS) : undefined;
if (reexec !== undefined) {
  try {
    process.execve(process.execPath, reexec, process.env);
  } catch {
    // Not fatal: only the memory defaults are missing.
  }
}
// Before anything loads ws: it binds its masking functions when it loads (src/util/ws-mask.ts says why).
await load('util/ws-mask');
await load('agent/main');
