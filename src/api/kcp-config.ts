// Loads the committed kcp provider objects (config/kcp/, generated from crds/) that the hub creates in
// root:kedge:providers at bootstrap: the APIResourceSchemas and the APIExport kedge.faros.sh.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXPORT_FILE_NAME } from './crd-gen/kcp-config-gen.ts';
import type { KcpObject } from './crd-gen/kcp-config-gen.ts';

export type { KcpObject } from './crd-gen/kcp-config-gen.ts';

export interface KcpConfig {
  /** APIResourceSchemas, sorted by name. Immutable in kcp: a changed schema has a new (hash-derived) name. */
  schemas: KcpObject[];
  /** The APIExport kedge.faros.sh (apis.kcp.io/v1alpha2) referencing exactly those schemas. */
  export: KcpObject;
}

/** The package root's config/kcp, found relative to this file so it works from src/ and from dist/. */
export const KCP_CONFIG_DIR = fileURLToPath(new URL('../../config/kcp/', import.meta.url));

export function loadKcpConfig(dir: string = KCP_CONFIG_DIR): KcpConfig {
  const files = readdirSync(dir).sort();
  const schemas = files
    .filter((file) => file.startsWith('apiresourceschema-') && file.endsWith('.yaml'))
    .map((file) => readObject(join(dir, file), 'APIResourceSchema'))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (schemas.length === 0) throw new Error(`no APIResourceSchema in ${dir}`);
  return { schemas, export: readObject(join(dir, EXPORT_FILE_NAME), 'APIExport') };
}

function readObject(path: string, kind: string): KcpObject {
  const object = parse(readFileSync(path, 'utf8')) as Partial<KcpObject> | null;
  if (object?.kind !== kind || typeof object.metadata?.name !== 'string' || object.spec === undefined) {
    throw new Error(`${path}: not a ${kind}`);
  }
  return object as KcpObject;
}
