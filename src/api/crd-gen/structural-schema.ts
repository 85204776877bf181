// Turns a hand-written CRD schema that may reference upstream Kubernetes OpenAPI v3 components
// (`$ref: '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec'`) into a structural schema a CRD accepts:
// refs inlined, int-or-string marked, CRD-forbidden keywords dropped. Used by hack/gen-crds.ts.

export type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  components: { schemas: Record<string, Schema> };
}

const REF_PREFIX = '#/components/schemas/';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Keywords a CRD's JSONSchemaProps may carry (apiextensions.k8s.io/v1); anything else is dropped. */
const ALLOWED_KEYWORDS = new Set([
  'type',
  'format',
  'description',
  'properties',
  'additionalProperties',
  'items',
  'required',
  'enum',
  'default',
  'nullable',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/** Formats the apiextensions validator knows; others (e.g. int-or-string) are dropped. */
const ALLOWED_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date-time', 'date', 'duration']);

interface Context {
  doc: OpenApiDocument;
  /** Component names being expanded, to reject recursive types (a CRD schema cannot express them). */
  stack: string[];
  /** Inside an upstream component: defaults are dropped there, except on list-map keys (see resolveArray). */
  upstream: boolean;
  /** Property names whose upstream default must be kept (map keys of the enclosing list). */
  keepDefaults: ReadonlySet<string>;
  path: string;
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** Resolves every `$ref` under `schema` against `doc` and returns a structural schema. Pure. */
export function structuralSchema(schema: Schema, doc: OpenApiDocument): Schema {
  return resolve(schema, { doc, stack: [], upstream: false, keepDefaults: new Set(), path: '' });
}

function refName(node: Schema): string | undefined {
  const ref = typeof node.$ref === 'string' ? node.$ref : singleAllOfRef(node);
  if (ref === undefined) return undefined;
  if (!ref.startsWith(REF_PREFIX)) throw new SchemaError(`unsupported $ref ${ref}`);
  return ref.slice(REF_PREFIX.length);
}

function singleAllOfRef(node: Schema): string | undefined {
  const allOf = node.allOf;
  if (!Array.isArray(allOf) || allOf.length !== 1) return undefined;
  const only = allOf[0] as Schema;
  return typeof only.$ref === 'string' ? only.$ref : undefined;
}

function resolve(node: Schema, ctx: Context): Schema {
  const name = refName(node);
  if (name !== undefined) return resolveRef(name, node, ctx);
  if (node.allOf !== undefined || node.anyOf !== undefined || node.oneOf !== undefined) {
    throw new SchemaError(`${ctx.path || '<root>'}: allOf/anyOf/oneOf other than a single $ref is not supported`);
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (!ALLOWED_KEYWORDS.has(key)) continue;
    if (key === 'format' && !ALLOWED_FORMATS.has(String(value))) continue;
    if (key === 'default' && ctx.upstream) continue;
    out[key] = value;
  }
  if (isObject(node.properties)) {
    const props: Record<string, Schema> = {};
    for (const [prop, child] of Object.entries(node.properties)) {
      const resolved = resolve(child as Schema, { ...ctx, keepDefaults: new Set(), path: `${ctx.path}.${prop}` });
      const required = Array.isArray(node.required) ? (node.required as string[]) : [];
      if (
        ctx.upstream &&
        ctx.keepDefaults.has(prop) &&
        !required.includes(prop) &&
        (child as Schema).default !== undefined
      ) {
        resolved.default = (child as Schema).default;
      }
      props[prop] = resolved;
    }
    out.properties = props;
  }
  if (isObject(node.additionalProperties)) {
    out.additionalProperties = resolve(node.additionalProperties, {
      ...ctx,
      keepDefaults: new Set(),
      path: `${ctx.path}.*`,
    });
  }
  if (isObject(node.items)) {
    const mapKeys = node['x-kubernetes-list-type'] === 'map' ? (node['x-kubernetes-list-map-keys'] as string[]) : [];
    const items = resolve(node.items, { ...ctx, keepDefaults: new Set(mapKeys), path: `${ctx.path}[]` });
    for (const key of mapKeys) {
      // A CRD rejects list-map keys that are neither required nor defaulted.
      const keyProp = (items.properties as Record<string, Schema> | undefined)?.[key];
      const required = Array.isArray(items.required) && (items.required as string[]).includes(key);
      if (keyProp === undefined || (!required && keyProp.default === undefined)) {
        throw new SchemaError(`${ctx.path}: list-map key ${key} is neither required nor defaulted`);
      }
    }
    out.items = items;
  }
  if (
    out.type === undefined &&
    out['x-kubernetes-int-or-string'] !== true &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    if (out.properties === undefined) throw new SchemaError(`${ctx.path || '<root>'}: schema has no type`);
    out.type = 'object';
  }
  if (out.type === 'array' && out.items === undefined) throw new SchemaError(`${ctx.path}: array without items`);
  return out;
}

function resolveRef(name: string, site: Schema, ctx: Context): Schema {
  const description = typeof site.description === 'string' ? site.description : undefined;
  const special = specialComponent(name, ctx);
  if (special !== undefined) return withDescription(special, description);
  if (ctx.stack.includes(name))
    throw new SchemaError(`${ctx.path}: recursive type ${[...ctx.stack, name].join(' -> ')}`);
  const target = ctx.doc.components.schemas[name];
  if (target === undefined) throw new SchemaError(`${ctx.path}: unknown component ${name}`);
  const resolved = resolve(target, { ...ctx, stack: [...ctx.stack, name], upstream: true });
  return withDescription(resolved, description);
}

/** Components a CRD must express differently from the upstream document. */
function specialComponent(name: string, ctx: Context): Schema | undefined {
  if (name === INT_OR_STRING || name === QUANTITY) {
    // Quantities are written as numbers too (`cpu: 1`), like an int-or-string.
    const upstream = ctx.doc.components.schemas[name];
    return { 'x-kubernetes-int-or-string': true, description: firstParagraph(upstream?.description) };
  }
  if (name === OBJECT_META) {
    // A nested ObjectMeta (template.metadata): only labels and annotations matter to a pod template; the API
    // server prunes the rest. The full ObjectMeta would add ~20 KB and fields the Deployment ignores anyway.
    const meta = ctx.doc.components.schemas[OBJECT_META];
    const metaProps = (meta?.properties ?? {}) as Record<string, Schema>;
    const stringMap = (prop: string): Schema => ({
      type: 'object',
      description: String(metaProps[prop]?.description ?? prop),
      additionalProperties: { type: 'string' },
    });
    return { type: 'object', properties: { labels: stringMap('labels'), annotations: stringMap('annotations') } };
  }
  return undefined;
}

function withDescription(schema: Schema, description: string | undefined): Schema {
  if (description === undefined) return schema;
  // Keep `description` first so the generated YAML reads naturally.
  const { description: _dropped, ...rest } = schema;
  return { description, ...rest };
}

function firstParagraph(text: unknown): string {
  return typeof text === 'string' ? (text.split('\n\n')[0] ?? text) : '';
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
