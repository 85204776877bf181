#!/usr/bin/env node
// Launcher: the compiled build when present (npm package, container), else the TypeScript source
// (Node >= 22.18 strips types natively). Keeps 'make run' free of a build step.
import { existsSync } from 'node:fs';
const compiled = new URL('../dist/agent/main.js', import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL('../src/agent/main.ts', import.meta.url).href);
