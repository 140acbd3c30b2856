/** Pure bench arithmetic and formatting (unit-tested in test/bench). */

export interface EndpointLimits {
  /** requests per 1-second window */
  burst: number;
  /** requests per 60-second window */
  steady: number;
}

/**
 * Requests the limits allow in `periodMs` when the period starts on a window boundary (the bench
 * aligns the simulator's wall clock so the first request opens a fresh minute): for every steady
 * window the period touches, min(steady, burst x the whole-or-partial seconds of the period in it).
 * For a period of at most a minute this is min(burst x ceil(seconds), steady).
 */
export function allowedRequests(limits: EndpointLimits, periodMs: number): number {
  if (periodMs <= 0) return 0;
  let total = 0;
  for (let start = 0; start < periodMs; start += 60_000) {
    const inWindow = Math.min(60_000, periodMs - start);
    total += Math.min(limits.steady, limits.burst * Math.ceil(inWindow / 1000));
  }
  return total;
}

export interface LogEntryLike {
  endpoint: string | null;
  status: number;
  startedAt: number;
}

/** 200 responses per endpoint for requests that arrived in [from, from + periodMs). */
export function servedInPeriod(
  entries: readonly LogEntryLike[],
  from: number,
  periodMs: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    if (e.status !== 200 || e.startedAt < from || e.startedAt >= from + periodMs) continue;
    const key = e.endpoint ?? '-';
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export interface UtilisationResult {
  served: Record<string, number>;
  allowed: Record<string, number>;
  totalServed: number;
  totalAllowed: number;
  /** served / allowed, all endpoints together */
  utilisation: number;
  requestsPerSecond: number;
  throttled: number;
}

export function utilisation(
  entries: readonly LogEntryLike[],
  from: number,
  periodMs: number,
  limits: Record<string, EndpointLimits>,
): UtilisationResult {
  const served = servedInPeriod(entries, from, periodMs);
  const allowed: Record<string, number> = {};
  let totalServed = 0;
  let totalAllowed = 0;
  for (const [endpoint, l] of Object.entries(limits)) {
    allowed[endpoint] = allowedRequests(l, periodMs);
    totalAllowed += allowed[endpoint];
    totalServed += served[endpoint] ?? 0;
  }
  const throttled = entries.filter(
    (e) => e.status === 429 && e.startedAt >= from && e.startedAt < from + periodMs,
  ).length;
  return {
    served,
    allowed,
    totalServed,
    totalAllowed,
    utilisation: totalAllowed === 0 ? 0 : totalServed / totalAllowed,
    requestsPerSecond: totalServed / (periodMs / 1000),
    throttled,
  };
}

/** `BENCH_SCALE` (default 1): multiplies data sizes and periods; 0.1 for a smoke run. */
export function benchScale(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.BENCH_SCALE;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_SCALE must be a positive number, got '${raw}'`);
  return n;
}

export interface TableRow {
  scenario: string;
  metric: string;
  ours: number | null;
  baseline: number | null;
  /** ours / baseline (or ours / target for absolute targets) */
  ratio: number | null;
  target: string;
  pass: boolean | null;
  note?: string;
}

function fmt(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function digitsFor(n: number | null): number {
  if (n === null) return 0;
  return Math.abs(n) < 10 ? 2 : Math.abs(n) < 1000 ? 1 : 0;
}

/** A fixed-width text table. */
export function formatTable(rows: readonly TableRow[]): string {
  const header = ['scenario', 'metric', 'ours', 'baseline', 'ratio', 'target', 'pass'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    fmt(r.ours, digitsFor(r.ours)),
    fmt(r.baseline, digitsFor(r.baseline)),
    r.ratio === null ? '-' : fmt(r.ratio, 2),
    r.target,
    r.pass === null ? '-' : r.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.scenario} ${r.metric}: ${r.note}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...notes].join('\n');
}
