import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { apiResourceSchemaFor, kcpConfigFiles, PERMISSION_CLAIMS } from './crd-gen/kcp-config-gen.ts';
import type { Crd } from './crd-gen/build-crd.ts';
import { EXPORT_NAME, GROUP, Resource } from './constants.ts';
import { KCP_CONFIG_DIR, loadKcpConfig } from './kcp-config.ts';

const crdDir = fileURLToPath(new URL('../../crds/', import.meta.url));
const crdTexts = readdirSync(crdDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => readFileSync(join(crdDir, file), 'utf8'));

describe('config/kcp', () => {
  it('is up to date with crds/ (run `make generate` when this fails)', () => {
    const expected = kcpConfigFiles(crdTexts);
    const generated = readdirSync(KCP_CONFIG_DIR)
      .filter((f) => /^api(resourceschema|export)-/.test(f))
      .sort();
    expect(generated).toEqual([...expected.keys()].sort());
    for (const [file, text] of expected) {
      expect(readFileSync(join(KCP_CONFIG_DIR, file), 'utf8')).toBe(text);
    }
  });

  it('loads one schema per resource and an export that references exactly them', () => {
    const config = loadKcpConfig();
    expect(config.schemas.map((s) => (s.spec.names as { plural: string }).plural).sort()).toEqual(
      Object.values(Resource).sort(),
    );
    for (const schema of config.schemas) {
      expect(schema.metadata.name).toMatch(/^v[0-9a-f]{8}\.[a-z]+\.kedge\.faros\.sh$/);
    }
    expect(config.export.metadata.name).toBe(EXPORT_NAME);
    const resources = config.export.spec.resources as { group: string; name: string; schema: string }[];
    expect(resources.map((r) => r.schema).sort()).toEqual(config.schemas.map((s) => s.metadata.name).sort());
    expect(resources.every((r) => r.group === GROUP)).toBe(true);
    expect(config.export.spec.permissionClaims).toEqual(PERMISSION_CLAIMS);
  });

  it('names a schema by its content, so any schema change yields a new immutable schema', () => {
    const crd = parse(crdTexts[0] ?? '') as Crd;
    const before = apiResourceSchemaFor(crd).metadata.name;
    const changed = structuredClone(crd);
    const schema = changed.spec.versions[0]?.schema?.openAPIV3Schema;
    if (schema === undefined) throw new Error('no schema');
    schema.description = `${String(schema.description)} (changed)`;
    expect(apiResourceSchemaFor(changed).metadata.name).not.toBe(before);
    expect(apiResourceSchemaFor(structuredClone(crd)).metadata.name).toBe(before);
  });

  it('rejects a directory without schemas', () => {
    expect(() => loadKcpConfig(crdDir)).toThrow(/no APIResourceSchema/);
  });
});
