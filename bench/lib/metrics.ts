/** Pure bench arithmetic and formatting (unit-tested in test/bench). */

export interface EndpointLimits {
  /** requests per 1-second window */
  burst: number;
  /** requests per 60-second window */
  steady: number;
}

export interface LogEntryLike {
  endpoint: string | null;
  status: number;
  startedAt: number;
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

/**
 * The earliest time (ms from the first request) by which `pages` requests can all be answered when
 * the server's fixed windows start with the first request: each minute allows `steady`, each second
 * `burst`, and an answer takes `latencyMs`. This is what the limits allow for that many full pages
 * (it even assumes every page could be asked for at once, which cursor paging cannot).
 */
export function boundMs(pages: number, limits: EndpointLimits, latencyMs: number): number {
  if (pages <= 0) return 0;
  const last = pages - 1;
  const minute = Math.floor(last / limits.steady);
  const inMinute = last % limits.steady;
  return minute * 60_000 + Math.floor(inMinute / limits.burst) * 1000 + latencyMs;
}

export interface TimedLogEntry extends LogEntryLike {
  durationMs: number;
}

/** One contender's backfill, from the simulator's request log and the records it loaded. */
export interface BackfillMeasure {
  records: number;
  /** Pages the records fill at the stream's page size: what a perfect client requests. */
  fullPages: number;
  /** 200 responses. */
  requests: number;
  throttled: number;
  /** First request's arrival to the last answer's end. */
  elapsedMs: number;
  recordsPerSecond: number;
  boundMs: number;
  /** records/s ÷ the records/s the limits allow for `fullPages` pages. */
  ofBound: number;
  requestsPerPage: number;
}

export function backfillMeasure(
  entries: readonly TimedLogEntry[],
  endpoint: string,
  records: number,
  pageSize: number,
  limits: EndpointLimits,
  latencyMs: number,
): BackfillMeasure {
  const mine = entries.filter((e) => e.endpoint === endpoint);
  const ok = mine.filter((e) => e.status === 200);
  const first = Math.min(...mine.map((e) => e.startedAt));
  const last = Math.max(...ok.map((e) => e.startedAt + e.durationMs));
  const elapsedMs = ok.length === 0 ? 0 : last - first;
  const fullPages = Math.ceil(records / pageSize);
  const bound = boundMs(fullPages, limits, latencyMs);
  const recordsPerSecond = elapsedMs > 0 ? records / (elapsedMs / 1000) : 0;
  return {
    records,
    fullPages,
    requests: ok.length,
    throttled: mine.filter((e) => e.status === 429).length,
    elapsedMs,
    recordsPerSecond,
    boundMs: bound,
    ofBound: elapsedMs > 0 ? bound / elapsedMs : 0,
    requestsPerPage: fullPages === 0 ? 0 : ok.length / fullPages,
  };
}
