import type { EndpointName } from '../../klaviyo/endpoints/index.js';

export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  endpoint: EndpointName | null;
  /** decoded query parameters (repeated names become arrays) */
  query: Record<string, string | string[]>;
  status: number;
  /** wall-clock ms at arrival */
  startedAt: number;
  durationMs: number;
  /** other requests to the same endpoint still being served when this one arrived */
  inFlightAtStart: number;
  /** `***` + last 4 chars of the key, or null without one */
  apiKey: string | null;
  revision: string | null;
  /** fault injected, if any (e.g. `status:503`, `reset`) */
  fault: string | null;
}

export function redactKey(key: string | null): string | null {
  if (!key) return null;
  return `***${key.slice(-4)}`;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly listeners: ((e: RequestLogEntry) => void)[] = [];

  nextSeq(): number {
    return ++this.seq;
  }

  enter(endpoint: string): number {
    const n = this.inFlight.get(endpoint) ?? 0;
    this.inFlight.set(endpoint, n + 1);
    return n;
  }

  leave(endpoint: string): void {
    this.inFlight.set(endpoint, Math.max(0, (this.inFlight.get(endpoint) ?? 1) - 1));
  }

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
    for (const l of this.listeners) l(entry);
  }

  onEntry(listener: (e: RequestLogEntry) => void): void {
    this.listeners.push(listener);
  }

  all(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e, query: { ...e.query } }));
  }

  clear(): void {
    this.entries = [];
  }
}
