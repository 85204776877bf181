// Regenerates config/kcp/ (APIResourceSchemas and the APIExport kedge.faros.sh) from crds/*.yaml.
// Run by `make generate`; src/api/kcp-config.test.ts fails when config/kcp is out of date.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kcpConfigFiles } from '../src/api/crd-gen/kcp-config-gen.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const crdDir = join(root, 'crds');
const outDir = join(root, 'config', 'kcp');

const crdTexts = readdirSync(crdDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => readFileSync(join(crdDir, file), 'utf8'));
const files = kcpConfigFiles(crdTexts);

// Remove generated files of resources that no longer exist; leave anything else in config/kcp alone.
for (const file of readdirSync(outDir)) {
  if ((file.startsWith('apiresourceschema-') || file.startsWith('apiexport-')) && !files.has(file)) {
    rmSync(join(outDir, file));
  }
}
for (const [file, text] of files) {
  writeFileSync(join(outDir, file), text);
  process.stdout.write(`config/kcp/${file}\n`);
}
