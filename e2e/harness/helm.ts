// Helm for e2e suites: the real helm binary from the tool cache ($KEDGE_CACHE/bin/helm, hack/tools), run with its
// own cache, config and data homes in a temporary directory (never the user's ~/.cache/helm or repositories), plus
// `kubectl apply --dry-run=server` to have a real kube-apiserver judge every rendered object.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from './cli.ts';
import { tool } from './env.ts';

/** Values for a chart: an object (written to a temporary values file) or the path of a values file. */
export type HelmValues = Record<string, unknown> | string;

let home: string | undefined;

/**
 * The temporary directory holding helm's homes and the values files of this process (made once, removed when the
 * process exits: values files may hold tokens; KEDGE_TEST_KEEP keeps it).
 */
function helmHome(): string {
  if (home === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-helm-'));
    if (!process.env.KEDGE_TEST_KEEP) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    home = dir;
  }
  return home;
}

let valuesCount = 0;

/** `-f FILE` arguments for each values source, in order (later ones win, as with helm). */
function valuesArgs(values: HelmValues | HelmValues[] | undefined): string[] {
  if (values === undefined) return [];
  const list = Array.isArray(values) ? values : [values];
  return list.flatMap((v) => {
    if (typeof v === 'string') return ['-f', v];
    const file = join(helmHome(), `values-${++valuesCount}.json`);
    // JSON is YAML: helm reads it as a values file.
    writeFileSync(file, JSON.stringify(v), { mode: 0o600 });
    return ['-f', file];
  });
}

/** Runs `helm ARGS` with private HELM_*_HOME directories; never throws (look at `code`). */
export function helm(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const h = helmHome();
  return run(tool('helm'), args, {
    ...opts,
    env: {
      HELM_CACHE_HOME: join(h, 'cache'),
      HELM_CONFIG_HOME: join(h, 'config'),
      HELM_DATA_HOME: join(h, 'data'),
      ...opts.env,
    },
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
}

/** Helm failed: the message carries the command and helm's own output (a schema error names the value). */
export class HelmError extends Error {
  readonly args: string[];
  readonly result: RunResult;
  constructor(args: string[], result: RunResult) {
    super(`helm ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
    this.args = args;
    this.result = result;
  }
}

async function helmOK(args: string[]): Promise<string> {
  const res = await helm(args);
  if (res.code !== 0) throw new HelmError(args, res);
  return res.stdout;
}

/** `helm lint --strict CHART -f VALUES`: resolves with helm's output, throws HelmError when the chart fails. */
export function helmLint(chartDir: string, values?: HelmValues | HelmValues[]): Promise<string> {
  return helmOK(['lint', '--strict', chartDir, ...valuesArgs(values)]);
}

/** `helm template RELEASE CHART -n NAMESPACE -f VALUES`: the rendered YAML; throws HelmError when helm refuses. */
export function helmTemplate(
  chartDir: string,
  releaseName: string,
  namespace: string,
  values?: HelmValues | HelmValues[],
  extraArgs: string[] = [],
): Promise<string> {
  return helmOK(['template', releaseName, chartDir, '--namespace', namespace, ...valuesArgs(values), ...extraArgs]);
}

/** Arguments `-f FILE…` for `values`, for helm commands built by the caller (`helm(['install', …, ...])`). */
export function helmValuesArgs(values: HelmValues | HelmValues[]): string[] {
  return valuesArgs(values);
}

/**
 * Applies every object in `yaml` with `kubectl apply --dry-run=server` against the cluster of `kubeconfig`: the
 * API server runs defaulting, validation and admission and stores nothing. Throws with kubectl's output when any
 * object is refused (kubectl reports each refusal and goes on with the others). Objects without a namespace go to
 * `namespace` when given (it must exist). Resolves with kubectl's output, one line per object.
 */
export async function serverDryRun(
  kubeconfig: string,
  yaml: string,
  opts: { namespace?: string } = {},
): Promise<string> {
  const args = ['--kubeconfig', kubeconfig, 'apply', '--dry-run=server', '-f', '-'];
  if (opts.namespace !== undefined) args.push('--namespace', opts.namespace);
  const res = await run(tool('kubectl'), args, { input: yaml });
  if (res.code !== 0)
    throw new Error(`kubectl apply --dry-run=server refused objects (${res.code}):\n${res.stderr}${res.stdout}`);
  return res.stdout;
}
