// Prometheus metrics of the hub, on a registry passed around (no global default registry).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface HubMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'code'>;
}

export function createMetrics(): HubMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kedge_hub_' });
  const httpRequests = new Counter({
    name: 'kedge_hub_http_requests_total',
    help: 'HTTP requests served by the hub, by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  return { registry, httpRequests };
}
