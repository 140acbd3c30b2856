/** What the client reports about itself: events for an `onEvent` observer, and counters per endpoint. */
import type { ClientStats, EndpointStats, KlaviyoClientEvent } from './types.js';

export interface Telemetry {
  emit(event: KlaviyoClientEvent): void;
  count(endpoint: string, field: keyof EndpointStats, n?: number): void;
  /** A copy of the counters: totals and per endpoint. */
  stats(): ClientStats;
}

function emptyStats(): EndpointStats {
  return { requests: 0, retries: 0, throttled: 0, bytes: 0 };
}

export function createTelemetry(onEvent: ((event: KlaviyoClientEvent) => void) | undefined): Telemetry {
  const totals = emptyStats();
  const byEndpoint = new Map<string, EndpointStats>();
  const statsFor = (endpoint: string): EndpointStats => {
    let s = byEndpoint.get(endpoint);
    if (!s) {
      s = emptyStats();
      byEndpoint.set(endpoint, s);
    }
    return s;
  };
  return {
    emit: (event) => {
      if (!onEvent) return;
      try {
        onEvent(event);
      } catch {
        // Observability must never break ingestion.
      }
    },
    count: (endpoint, field, n = 1) => {
      totals[field] += n;
      statsFor(endpoint)[field] += n;
    },
    stats: () => ({
      ...totals,
      byEndpoint: Object.fromEntries([...byEndpoint].map(([k, v]) => [k, { ...v }])),
    }),
  };
}
