import { describe, it, expect } from '@jest/globals';
import { SchemaError, structuralSchema } from './structural-schema.ts';
import type { OpenApiDocument, Schema } from './structural-schema.ts';

const ref = (name: string): string => `#/components/schemas/${name}`;

const doc: OpenApiDocument = {
  components: {
    schemas: {
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
        description: 'IntOrString holds an int32 or a string.\n\nMore text.',
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
      },
      'io.k8s.apimachinery.pkg.api.resource.Quantity': { description: 'Quantity is a number.', type: 'string' },
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          name: { type: 'string' },
          labels: {
            type: 'object',
            description: 'Map of labels.',
            additionalProperties: { type: 'string', default: '' },
          },
          managedFields: { type: 'array', items: { type: 'object' } },
        },
      },
      'x.Port': {
        description: 'A port.',
        type: 'object',
        required: ['containerPort'],
        properties: {
          containerPort: { type: 'integer', format: 'int32', default: 0 },
          protocol: { type: 'string', default: 'TCP' },
          name: { type: 'string', default: '' },
          target: {
            allOf: [{ $ref: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString') }],
            description: 'Target port.',
          },
        },
      },
      'x.Container': {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
            'x-kubernetes-patch-strategy': 'merge',
            'x-kubernetes-patch-merge-key': 'containerPort',
            items: { allOf: [{ $ref: ref('x.Port') }], default: {} },
          },
          limits: {
            type: 'object',
            additionalProperties: { $ref: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
          },
        },
      },
      'x.Template': {
        type: 'object',
        'x-kubernetes-group-version-kind': [{ group: '', kind: 'X', version: 'v1' }],
        properties: {
          metadata: { allOf: [{ $ref: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta') }], default: {} },
        },
      },
      'x.Loop': { type: 'object', properties: { next: { $ref: ref('x.Loop') } } },
      'x.BadList': {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['key'],
            items: { type: 'object', properties: { key: { type: 'string' } } },
          },
        },
      },
      'x.Untyped': { description: 'no type' },
    },
  },
};

describe('structuralSchema', () => {
  it('inlines a $ref, with the description at the reference site winning', () => {
    const out = structuralSchema({ $ref: ref('x.Port'), description: 'Site description.' }, doc);
    expect(out.description).toBe('Site description.');
    expect(out.type).toBe('object');
    expect(out.required).toEqual(['containerPort']);
  });

  it('marks IntOrString and Quantity as x-kubernetes-int-or-string without a type', () => {
    const port = structuralSchema({ $ref: ref('x.Port') }, doc);
    const target = (port.properties as Record<string, Schema>).target;
    expect(target).toEqual({ description: 'Target port.', 'x-kubernetes-int-or-string': true });
    const container = structuralSchema({ $ref: ref('x.Container') }, doc);
    const limits = (container.properties as Record<string, Schema>).limits;
    expect(limits).toEqual({
      type: 'object',
      additionalProperties: { 'x-kubernetes-int-or-string': true, description: 'Quantity is a number.' },
    });
  });

  it('drops upstream defaults except on list-map keys that are not required', () => {
    const container = structuralSchema({ $ref: ref('x.Container') }, doc);
    const ports = (container.properties as Record<string, Schema>).ports as Schema;
    const items = ports.items as Schema;
    const props = items.properties as Record<string, Schema>;
    expect(items.default).toBeUndefined();
    expect(props.protocol).toEqual({ type: 'string', default: 'TCP' });
    expect(props.containerPort).toEqual({ type: 'integer', format: 'int32' });
    expect(props.name).toEqual({ type: 'string' });
  });

  it('keeps list and map markers and drops keywords a CRD rejects', () => {
    const container = structuralSchema({ $ref: ref('x.Container') }, doc);
    const ports = (container.properties as Record<string, Schema>).ports as Schema;
    expect(ports['x-kubernetes-list-type']).toBe('map');
    expect(ports['x-kubernetes-list-map-keys']).toEqual(['containerPort', 'protocol']);
    expect(ports['x-kubernetes-patch-strategy']).toBeUndefined();
    expect(ports['x-kubernetes-patch-merge-key']).toBeUndefined();
    const template = structuralSchema({ $ref: ref('x.Template') }, doc);
    expect(template['x-kubernetes-group-version-kind']).toBeUndefined();
  });

  it('reduces a nested ObjectMeta to labels and annotations', () => {
    const template = structuralSchema({ $ref: ref('x.Template') }, doc);
    const metadata = (template.properties as Record<string, Schema>).metadata as Schema;
    expect(Object.keys(metadata.properties as object)).toEqual(['labels', 'annotations']);
    expect((metadata.properties as Record<string, Schema>).labels).toEqual({
      type: 'object',
      description: 'Map of labels.',
      additionalProperties: { type: 'string' },
    });
    expect(metadata.default).toBeUndefined();
  });

  it('keeps defaults and validations written in the Kedge source', () => {
    const source: Schema = {
      type: 'object',
      'x-kubernetes-validations': [{ rule: 'self.a > 0', message: 'a must be positive' }],
      properties: { a: { type: 'integer', default: 1 } },
    };
    expect(structuralSchema(source, doc)).toEqual(source);
  });

  it('rejects recursive types, list-map keys without required or default, and untyped nodes', () => {
    expect(() => structuralSchema({ $ref: ref('x.Loop') }, doc)).toThrow(/recursive type x.Loop -> x.Loop/);
    expect(() => structuralSchema({ $ref: ref('x.BadList') }, doc)).toThrow(/list-map key key/);
    expect(() => structuralSchema({ $ref: ref('x.Untyped') }, doc)).toThrow(SchemaError);
    expect(() => structuralSchema({ $ref: ref('x.Missing') }, doc)).toThrow(/unknown component x.Missing/);
  });
});
