// Regenerates crds/*.yaml from crds/src/*.yaml, inlining the upstream Kubernetes types they reference
// (PodTemplateSpec, ContainerPort, EnvVar, ResourceRequirements, Condition) from the Kubernetes OpenAPI v3 document.
// Run: node hack/gen-crds.ts   (then node hack/gen-kcp-config.ts)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildCrd, renderCrd } from '../src/api/crd-gen/build-crd.ts';
import type { Crd } from '../src/api/crd-gen/build-crd.ts';
import type { OpenApiDocument } from '../src/api/crd-gen/structural-schema.ts';

/**
 * The Kubernetes fork kcp v0.32.3 is built from (see hack/tools/kcp/go.mod), so the embedded pod types match
 * what kcp serves. It is a Go module; `go mod download` fetches it into the module cache (or finds it there).
 */
const KUBE_MODULE = 'github.com/kcp-dev/kubernetes@v0.0.0-20260401063412-ba4f7d493d5b';
const OPENAPI_FILE = 'api/openapi-spec/v3/api__v1_openapi.json';

const root = fileURLToPath(new URL('..', import.meta.url));

function openApiPath(): string {
  const override = process.env.KUBE_OPENAPI_V3;
  if (override !== undefined && override !== '') return override;
  const out = execFileSync('go', ['mod', 'download', '-json', KUBE_MODULE], { encoding: 'utf8', cwd: root });
  const { Dir } = JSON.parse(out) as { Dir?: string };
  if (Dir === undefined) throw new Error(`go mod download ${KUBE_MODULE} returned no Dir`);
  return join(Dir, OPENAPI_FILE);
}

function main(): void {
  const path = openApiPath();
  if (!existsSync(path)) throw new Error(`${path} not found (set KUBE_OPENAPI_V3 to an api__v1_openapi.json)`);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument;
  const srcDir = join(root, 'crds', 'src');
  for (const file of readdirSync(srcDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const source = parse(readFileSync(join(srcDir, file), 'utf8')) as Crd;
    const text = renderCrd(buildCrd(source, doc), `crds/src/${file}`);
    writeFileSync(join(root, 'crds', file), text);
    process.stdout.write(`crds/${file} (${Math.round(text.length / 1024)} KiB)\n`);
  }
}

main();
