// Prometheus metrics of the hub, on a registry passed around (no global default registry).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface HubMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'code'>;
}

// Process metrics (CPU, memory, event loop) are per process, not per hub: collected once, shared by every hub
// registry, so tests that start many hubs in one process do not stack up collectors.
let processRegistry: Registry | undefined;

export function createMetrics(): HubMetrics {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'kedge_hub_' });
  }
  const own = new Registry();
  const httpRequests = new Counter({
    name: 'kedge_hub_http_requests_total',
    help: 'HTTP requests served by the hub, by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [own],
  });
  return { registry: Registry.merge([processRegistry, own]), httpRequests };
}
