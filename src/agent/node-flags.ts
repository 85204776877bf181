// The Node/V8 flags the agent runs with unless the user chose otherwise: they keep an idle agent small on a Raspberry
// Pi (figures: docs/benchmarks.md "Agent memory"). V8 sizes its heap only when it starts, so `v8.setFlagsFromString`
// at run time changes nothing here: bin/kedge-agent.js re-executes Node with the missing flags (process.execve, same
// pid) before anything else loads.
// A flag the user gives (in NODE_OPTIONS or on node's command line), in any form (`--x=…`, `--x`, `--no-x`, `--x_y`),
// wins: the agent adds only the flags of names nobody set.

/**
 * `--max-semi-space-size=1`: the young generation stays at 2 MiB; by default it grows with the start-up burst (to
 * 64 MiB in kubernetes mode, 16 MiB in server mode) and keeps that size while idle. An idle agent allocates little, and
 * a scavenge of 1 MiB is short. Not kept (docs/benchmarks.md "Agent memory"): `--v8-pool-size=1` and
 * `--optimize-for-size` (within the spread between runs; NODE_OPTIONS also refuses the latter, so a user could not
 * turn it off there), `--lite-mode` (it disables WebAssembly, which undici's HTTP parser needs).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** `--max_semi-space-size=1`, `--no-max-semi-space-size` → `max-semi-space-size` (V8 reads `_` as `-`). */
export function nodeFlagName(flag: string): string {
  const name = flag.replace(/^--?/, '').split('=')[0] ?? '';
  return name.replaceAll('_', '-').replace(/^no-/, '');
}

/**
 * The flags of `defaults` whose names appear neither in `execArgv` (node's own command line, as process.execArgv)
 * nor in `nodeOptions` (the NODE_OPTIONS variable). Empty once they are all in place: then there is nothing to do,
 * which also keeps a re-executed agent from re-executing again.
 */
export function missingNodeFlags(
  defaults: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = new Set(
    [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.startsWith('-')).map(nodeFlagName),
  );
  return defaults.filter((f) => !given.has(nodeFlagName(f)));
}

/**
 * The argv to re-execute this process with (node, the missing flags, its own execArgv, the script and its args), or
 * undefined when every default is in place.
 */
export function reexecArgs(
  proc: { execPath: string; execArgv: readonly string[]; argv: readonly string[] },
  nodeOptions: string | undefined,
  defaults: readonly string[] = AGENT_NODE_FLAGS,
): string[] | undefined {
  const missing = missingNodeFlags(defaults, proc.execArgv, nodeOptions);
  if (missing.length === 0) return undefined;
  return [proc.execPath, ...missing, ...proc.execArgv, ...proc.argv.slice(1)];
}
