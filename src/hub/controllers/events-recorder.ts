// Records controller Events as core/v1 Events in the object's own workspace and namespace, through the APIExport
// virtual workspace (`events` is a claimed resource). Best effort: a failed Event never fails a reconcile.
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { clusterOf } from '../../kube/cluster-key.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { ControllerEvent } from './events.ts';

export const EVENT_SOURCE = 'kedge-hub';

/** The core/v1 Event for `event` about `obj` (name `<obj>.<time hex><rand>` like client-go, so it never collides). */
export function eventManifest(
  obj: KubeObject,
  event: ControllerEvent,
  nowMs: number,
  reportingInstance: string,
): KubeObject {
  const t = new Date(nowMs).toISOString();
  const suffix = `${nowMs.toString(16)}${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${obj.metadata.name ?? 'object'}.${suffix}`, namespace: obj.metadata.namespace ?? 'default' },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
    },
    type: event.type,
    reason: event.reason,
    message: event.message,
    source: { component: EVENT_SOURCE },
    reportingComponent: EVENT_SOURCE,
    reportingInstance,
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
  };
}

export class EventRecorder {
  readonly #vw: KubeClient;
  readonly #instance: string;
  readonly #log: Logger;
  #failures = 0;
  recorded = 0;

  /** `vw` is a client on the virtual-workspace URL; Events go to `<vw>/clusters/<object's cluster>/…`. */
  constructor(vw: KubeClient, reportingInstance: string, log: Logger) {
    this.#vw = vw;
    this.#instance = reportingInstance;
    this.#log = log;
  }

  async record(obj: KubeObject, events: readonly ControllerEvent[], nowMs: number): Promise<void> {
    const cluster = clusterOf(obj);
    const ns = obj.metadata.namespace ?? 'default';
    for (const event of events) {
      try {
        await this.#vw
          .forCluster(cluster)
          .create(`/api/v1/namespaces/${ns}/events`, eventManifest(obj, event, nowMs, this.#instance));
        this.recorded++;
        this.#failures = 0;
      } catch (err) {
        // One warning per failure streak: an unaccepted claim would otherwise log on every reconcile.
        if (this.#failures++ === 0) this.#log.warn({ err, cluster, reason: event.reason }, 'recording an Event failed');
        else this.#log.debug({ err, cluster, reason: event.reason }, 'recording an Event failed');
      }
    }
  }
}
