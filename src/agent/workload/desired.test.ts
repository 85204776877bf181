import { describe, expect, it } from '@jest/globals';
import type { Placement, VirtualWorkload } from '../../api/types.ts';
import { ApiError, apiErrorFromResponse } from '../../kube/api-error.ts';
import {
  ANNOTATION_DESIRED_HASH,
  ANNOTATION_PLACEMENT,
  ANNOTATION_PLACEMENT_UID,
  DesiredStateError,
  applyFailure,
  containerName,
  desiredDeployment,
  desiredObjects,
  needsApply,
  servicePorts,
  workloadBehind,
} from './desired.ts';

const ctx = { cluster: '2x8flc', edge: 'eu-1' };

function vw(spec: VirtualWorkload['spec'], name = 'web'): VirtualWorkload {
  return { metadata: { name, namespace: 'shop', uid: 'vw-uid' }, spec };
}

function placement(replicas?: number, name = 'web-eu-1'): Placement {
  return {
    metadata: { name, namespace: 'shop', uid: 'pl-uid', generation: 3 },
    spec: { workloadRef: { name: 'web', uid: 'vw-uid' }, edgeName: 'eu-1', replicas },
  };
}

describe('desiredDeployment', () => {
  it('builds one container named after the VW from spec.simple, replicas from the Placement', () => {
    const d = desiredDeployment(
      placement(3),
      vw({
        simple: {
          image: 'nginx:1.27',
          ports: [{ containerPort: 80 }],
          env: [{ name: 'A', value: '1' }],
          command: ['nginx'],
          args: ['-g'],
        },
        replicas: 1,
      }),
      ctx,
    );
    expect(d).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: {
          'app.kubernetes.io/managed-by': 'kedge-agent',
          'kedge.faros.sh/placement': 'web-eu-1',
          'kedge.faros.sh/virtualworkload': 'web',
          'kedge.faros.sh/cluster': '2x8flc',
          'kedge.faros.sh/edge': 'eu-1',
        },
        annotations: {
          'kedge.faros.sh/placement': 'web-eu-1',
          'kedge.faros.sh/placement-uid': 'pl-uid',
          'kedge.faros.sh/virtualworkload': 'web',
          'kedge.faros.sh/virtualworkload-uid': 'vw-uid',
          'kedge.faros.sh/cluster': '2x8flc',
        },
      },
      spec: {
        replicas: 3,
        selector: { matchLabels: { 'kedge.faros.sh/virtualworkload': 'web' } },
        template: {
          metadata: { labels: { 'kedge.faros.sh/virtualworkload': 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:1.27',
                ports: [{ containerPort: 80 }],
                env: [{ name: 'A', value: '1' }],
                command: ['nginx'],
                args: ['-g'],
              },
            ],
          },
        },
      },
    });
  });

  it('falls back to the VW replicas, then 1', () => {
    expect(desiredDeployment(placement(), vw({ simple: { image: 'x' }, replicas: 4 }), ctx).spec?.replicas).toBe(4);
    expect(desiredDeployment(placement(), vw({ simple: { image: 'x' } }), ctx).spec?.replicas).toBe(1);
    expect(desiredDeployment(placement(0), vw({ simple: { image: 'x' }, replicas: 4 }), ctx).spec?.replicas).toBe(0);
  });

  it('keeps template metadata and adds the selector labels', () => {
    const d = desiredDeployment(
      placement(1),
      vw({
        template: {
          metadata: {
            labels: { app: 'web', 'kedge.faros.sh/virtualworkload': 'spoofed' },
            annotations: { 'prometheus.io/scrape': 'true' },
          },
          spec: { containers: [{ name: 'main', image: 'busybox', securityContext: { runAsNonRoot: true } }] },
        },
      }),
      ctx,
    );
    expect(d.spec?.template).toEqual({
      metadata: {
        labels: { app: 'web', 'kedge.faros.sh/virtualworkload': 'web' },
        annotations: { 'prometheus.io/scrape': 'true' },
      },
      spec: { containers: [{ name: 'main', image: 'busybox', securityContext: { runAsNonRoot: true } }] },
    });
  });

  it('rejects a VW without a workload, or with both kinds', () => {
    expect(() => desiredDeployment(placement(), vw({}), ctx)).toThrow(DesiredStateError);
    expect(() =>
      desiredDeployment(
        placement(),
        vw({ simple: { image: 'a' }, template: { spec: { containers: [{ name: 'a' }] } } }),
        ctx,
      ),
    ).toThrow(/both/);
    expect(() => desiredDeployment(placement(), vw({ template: { spec: { containers: [] } } }), ctx)).toThrow(
      /containers is empty/,
    );
  });

  it('rejects a VW that is not the one the Placement refers to', () => {
    const other = vw({ simple: { image: 'a' } });
    other.metadata.uid = 'new-uid';
    expect(() => desiredDeployment(placement(), other, ctx)).toThrow(/earlier VirtualWorkload/);
    expect(() => desiredDeployment(placement(), vw({ simple: { image: 'a' } }, 'api'), ctx)).toThrow(
      /refers to VirtualWorkload web/,
    );
  });

  it('hashes long names into valid label values and keeps the full names in annotations', () => {
    const long = `p${'x'.repeat(100)}`;
    const d = desiredDeployment(placement(1, long), vw({ simple: { image: 'a' } }), ctx);
    expect(d.metadata.labels?.['kedge.faros.sh/placement']).toHaveLength(63);
    expect(d.metadata.annotations?.[ANNOTATION_PLACEMENT]).toBe(long);
    expect(d.metadata.annotations?.[ANNOTATION_PLACEMENT_UID]).toBe('pl-uid');
  });
});

describe('containerName', () => {
  it('makes a DNS-1123 label of any VW name', () => {
    expect(containerName('web')).toBe('web');
    expect(containerName('web.v2')).toBe('web-v2');
    expect(containerName('a'.repeat(70))).toHaveLength(63);
  });
});

describe('desiredObjects / servicePorts', () => {
  it('makes a Service only when ports are declared, and hashes both objects', () => {
    const none = desiredObjects(placement(1), vw({ simple: { image: 'a' } }), ctx);
    expect(none.service).toBeUndefined();
    expect(none.namespace).toBe('shop');
    const withPorts = desiredObjects(
      placement(1),
      vw({ simple: { image: 'a', ports: [{ containerPort: 8080, name: 'http' }] } }),
      ctx,
    );
    expect(withPorts.service?.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'kedge.faros.sh/virtualworkload': 'web' },
      ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
    });
    expect(withPorts.deployment.metadata.annotations?.[ANNOTATION_DESIRED_HASH]).toBe(withPorts.hash);
    expect(withPorts.service?.metadata.annotations?.[ANNOTATION_DESIRED_HASH]).toBe(withPorts.hash);
    expect(withPorts.hash).not.toBe(none.hash);
    expect(desiredObjects(placement(1), vw({ simple: { image: 'a' } }), ctx).hash).toBe(none.hash);
  });

  it('names several ports uniquely and drops duplicates', () => {
    expect(
      servicePorts({
        spec: {
          containers: [
            { name: 'a', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP', name: 'dns' }] },
            { name: 'b', ports: [{ containerPort: 80 }, { containerPort: 81, name: 'dns' }] },
          ],
        },
      }),
    ).toEqual([
      { name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
      { name: 'tcp-81', port: 81, targetPort: 81, protocol: 'TCP' },
    ]);
  });
});

describe('a VirtualWorkload edit that keeps the Placement', () => {
  const GEN = 'kedge.faros.sh/workload-generation';
  const stamped = (gen: number | undefined): Placement => {
    const p = placement(1);
    if (gen !== undefined) p.metadata.annotations = { [GEN]: String(gen) };
    return p;
  };
  const at = (generation: number | undefined, image: string, uid = 'vw-uid'): VirtualWorkload => {
    const w = vw({ simple: { image } });
    w.metadata.uid = uid;
    if (generation !== undefined) w.metadata.generation = generation;
    return w;
  };

  it('changes the desired hash with the image or the template, not with the generation or the Placement annotation alone', () => {
    const before = desiredObjects(stamped(1), at(1, 'nginx:1.27'), ctx).hash;
    const newImage = desiredObjects(stamped(2), at(2, 'nginx:1.28'), ctx).hash;
    expect(newImage).not.toBe(before);
    expect(needsApply(newImage, before, before)).toBe(true);
    // A spec edit that does not change what runs (e.g. the edge selector) applies nothing.
    const sameContent = desiredObjects(stamped(3), at(3, 'nginx:1.27'), ctx).hash;
    expect(sameContent).toBe(before);
    expect(needsApply(sameContent, before, before)).toBe(false);
    const template = desiredObjects(
      stamped(4),
      vw({
        template: { metadata: { labels: { v: '2' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      }),
      ctx,
    ).hash;
    expect(template).not.toBe(before);
  });

  it('needsApply: live hash differs, or the agent last applied something else (the cache lags its own write)', () => {
    expect(needsApply('h2', undefined, undefined)).toBe(true); // no Deployment yet
    expect(needsApply('h2', 'h1', undefined)).toBe(true); // a new image
    expect(needsApply('h2', 'h2', undefined)).toBe(false); // after an agent restart, cache is the only truth
    expect(needsApply('h2', 'h2', 'h2')).toBe(false); // settled
    expect(needsApply('h1', 'h1', 'h2')).toBe(true); // edit then quick revert while the cache still shows h1
    expect(needsApply('h2', 'h2', '')).toBe(true); // the last apply did not finish (e.g. the Service failed)
    expect(needsApply('h2', 'h1', 'h2')).toBe(true); // someone changed the live object since
  });

  it('workloadBehind: the read is older than the generation the hub stamped on the Placement', () => {
    expect(workloadBehind(stamped(3), at(2, 'a'))).toBe(true);
    expect(workloadBehind(stamped(3), at(3, 'a'))).toBe(false);
    expect(workloadBehind(stamped(3), at(4, 'a'))).toBe(false); // the hub has not stamped the newest yet
    expect(workloadBehind(stamped(undefined), at(1, 'a'))).toBe(false); // a hub that does not stamp
    expect(workloadBehind(stamped(3), at(undefined, 'a'))).toBe(false);
    expect(workloadBehind(stamped(5), at(1, 'a', 'other-uid'))).toBe(false); // another incarnation: checkPair reports it
  });
});

describe('applyFailure', () => {
  const status = (code: number, reason: string, details: object): string =>
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, details });

  it('a 404 naming the namespace (deleted on the edge) means namespace-gone, so the agent makes it again', () => {
    // What the NamespaceLifecycle admission plugin answers for a server-side apply into a missing namespace.
    const err = apiErrorFromResponse(
      404,
      status(404, 'NotFound', { name: 'shop', kind: 'namespaces' }),
      'PATCH',
      '/apis/apps/v1/namespaces/shop/deployments/web',
    );
    expect(applyFailure(err)).toBe('namespace-gone');
  });

  it('a 403 with cause NamespaceTerminating (deletion in progress) means namespace-gone too', () => {
    const err = apiErrorFromResponse(
      403,
      status(403, 'Forbidden', {
        name: 'web',
        group: 'apps',
        kind: 'deployments',
        causes: [
          { type: 'NamespaceTerminating', message: 'namespace shop is being terminated', field: 'metadata.namespace' },
        ],
      }),
      'PATCH',
      '/apis/apps/v1/namespaces/shop/deployments/web',
    );
    expect(applyFailure(err)).toBe('namespace-gone');
  });

  it('server errors, throttling, conflicts and non-API errors are transient; other refusals fail the Placement', () => {
    expect(applyFailure(new ApiError({ code: 503 }))).toBe('transient');
    expect(applyFailure(new ApiError({ code: 429 }))).toBe('transient');
    expect(applyFailure(new ApiError({ code: 409 }))).toBe('transient');
    expect(applyFailure(new Error('socket hang up'))).toBe('transient');
    expect(applyFailure(new ApiError({ code: 422 }))).toBe('failed');
    expect(applyFailure(new ApiError({ code: 403 }))).toBe('failed'); // RBAC, quota: not the namespace going away
    expect(applyFailure(new ApiError({ code: 404 }))).toBe('failed'); // not about the namespace (e.g. no apps/v1)
  });
});
