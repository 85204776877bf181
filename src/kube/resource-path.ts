// Builds REST paths: core group under `/api/v1`, others under `/apis/<group>/<version>`.

export type ResourceRef = {
  /** '' (or absent) for the core group. */
  group?: string;
  version: string;
  /** Plural resource name, e.g. `edges`. */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
};

export function resourcePath(ref: ResourceRef): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  let path = `${base}${ns}/${ref.resource}`;
  if (ref.name !== undefined) path += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource !== undefined) {
    if (ref.name === undefined) throw new TypeError('a subresource needs a name');
    path += `/${ref.subresource}`;
  }
  return path;
}
