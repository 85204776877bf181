#!/usr/bin/env node
// Launcher: the compiled build when present (npm package, container), else the TypeScript source
// (Node >= 22.18 strips types natively). Keeps 'make run' free of a build step.
import { existsSync } from 'node:fs';
const load = (/** @type {string} */ m) => {
  const compiled = new URL(`../dist/${m}.js`, import.meta.url);
  return import(existsSync(compiled) ? compiled.href : new URL(`../src/${m}.ts`, import.meta.url).href);
};
// Before anything loads ws: it binds its masking functions when it loads (src/util/ws-mask.ts says why).
await load('util/ws-mask');
await load('agent/main');
