import {
  DEMO_API_KEY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.js';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const REVISION = '2026-07-15';

export function small(extra: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    seed: 42,
    now: NOW,
    start: Date.UTC(2025, 11, 1),
    profiles: 120,
    events: 1500,
    rateLimits: 'off',
    ...extra,
  });
}

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
  body: any;
  text: string;
}

export async function call(
  sim: { baseUrl: string },
  path: string,
  query: Record<string, string> = {},
  init: { key?: string | null; revision?: string | null; method?: string; body?: unknown } = {},
): Promise<Reply> {
  const qs = new URLSearchParams(query).toString();
  const headers: Record<string, string> = {};
  const key = init.key === undefined ? DEMO_API_KEY : init.key;
  if (key !== null) headers.Authorization = `Klaviyo-API-Key ${key}`;
  const revision = init.revision === undefined ? REVISION : init.revision;
  if (revision !== null) headers.revision = revision;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${sim.baseUrl}${path}${qs ? `?${qs}` : ''}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Follows links.next from a first URL, returning every page's data. */
export async function scan(
  sim: { baseUrl: string },
  path: string,
  query: Record<string, string>,
  init: { revision?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
): Promise<{ records: any[]; pages: number }> {
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
  const records: any[] = [];
  let pages = 0;
  let reply = await call(sim, path, query, init);
  for (;;) {
    if (reply.status !== 200) throw new Error(`status ${reply.status}: ${reply.text}`);
    pages++;
    records.push(...reply.body.data);
    const next: string | null | undefined = reply.body.links.next;
    if (!next) break;
    const u = new URL(next);
    reply = await call(sim, u.pathname, Object.fromEntries(u.searchParams.entries()), init);
  }
  return { records, pages };
}
