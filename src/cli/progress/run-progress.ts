/**
 * The state of a run as its events arrive: per source, rows and pages read, rows committed, how far
 * through its window, its speed and what is left. The displays (terminal, plain lines) and the
 * run-state file `status` reads are all drawn from it.
 */
import type { RunEvent } from '../../workflow/run-events.js';

export type SourcePhase = 'waiting' | 'loading' | 'done' | 'failed';

export interface SourceProgress {
  source: string;
  table: string;
  phase: SourcePhase;
  windowStart: string;
  windowEnd: string;
  rows: number;
  pages: number;
  committed: number;
  /** 0..1, or null when the source cannot tell (unsorted reads, full loads). */
  windowDone: number | null;
  /** Epoch ms. */
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

export interface RunProgressSnapshot {
  runId: string;
  workflow: string;
  startedAt: number;
  sources: SourceProgress[];
  retries: number;
  throttles: number;
}

export class RunProgress {
  private readonly bySource = new Map<string, SourceProgress>();
  runId = '';
  workflow = '';
  startedAt = 0;
  retries = 0;
  throttles = 0;

  /** Takes one event; returns the source it changed, if any. */
  apply(event: RunEvent): SourceProgress | null {
    switch (event.type) {
      case 'run-start':
        this.runId = event.runId;
        this.workflow = event.workflow;
        this.startedAt = event.at;
        for (const ref of event.sources) this.bySource.set(ref.source, blank(ref.source, ref.table));
        return null;
      case 'retry':
        this.retries++;
        return null;
      case 'throttle':
        this.throttles++;
        return null;
      case 'run-end':
        return null;
    }
    const s = this.bySource.get(event.source) ?? blank(event.source, event.table);
    this.bySource.set(event.source, s);
    switch (event.type) {
      case 'start':
        s.phase = 'loading';
        s.startedAt = event.at;
        s.windowStart = event.windowStart;
        s.windowEnd = event.windowEnd;
        break;
      case 'page':
        s.rows = event.rows;
        s.pages = event.pages;
        s.windowDone = event.windowDone;
        break;
      case 'commit':
        s.committed = event.committed;
        break;
      case 'success':
        s.phase = 'done';
        s.finishedAt = event.at;
        s.pages = event.pages;
        s.committed = event.records;
        s.windowDone = s.windowDone === null ? null : 1;
        break;
      case 'error':
        s.phase = 'failed';
        s.finishedAt = event.at;
        s.committed = event.committed;
        s.error = event.message;
        break;
    }
    return s;
  }

  sources(): SourceProgress[] {
    return [...this.bySource.values()];
  }

  inFlight(): SourceProgress[] {
    return this.sources().filter((s) => s.phase === 'loading');
  }

  snapshot(): RunProgressSnapshot {
    return {
      runId: this.runId,
      workflow: this.workflow,
      startedAt: this.startedAt,
      sources: this.sources().map((s) => ({ ...s })),
      retries: this.retries,
      throttles: this.throttles,
    };
  }
}

function blank(source: string, table: string): SourceProgress {
  return {
    source,
    table,
    phase: 'waiting',
    windowStart: '',
    windowEnd: '',
    rows: 0,
    pages: 0,
    committed: 0,
    windowDone: null,
    startedAt: null,
    finishedAt: null,
    error: null,
  };
}

/** Rows per second since the source started (null before a second has passed). */
export function rowsPerSecond(s: SourceProgress, now: number): number | null {
  if (s.startedAt === null) return null;
  const seconds = ((s.finishedAt ?? now) - s.startedAt) / 1000;
  return seconds >= 1 ? s.rows / seconds : null;
}

/** Time left at the pace so far, from how much of the window is read; null when unknown. */
export function etaMs(s: SourceProgress, now: number): number | null {
  if (s.startedAt === null || s.windowDone === null || s.windowDone < 0.01) return null;
  const elapsed = now - s.startedAt;
  return (elapsed * (1 - s.windowDone)) / s.windowDone;
}

const number = new Intl.NumberFormat('en-US');

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `klaviyo_events  12,345 rows  25 pages  3,400 rows/s  45% of window  ETA 12s` */
export function describeSource(s: SourceProgress, now: number): string {
  const parts = [`${number.format(s.rows)} rows`, `${number.format(s.pages)} pages`];
  const rate = rowsPerSecond(s, now);
  if (rate !== null) parts.push(`${number.format(Math.round(rate))} rows/s`);
  if (s.windowDone !== null) parts.push(`${Math.floor(s.windowDone * 100)}% of window`);
  if (s.committed > 0 && s.phase === 'loading') parts.push(`${number.format(s.committed)} committed`);
  const eta = s.phase === 'loading' ? etaMs(s, now) : null;
  if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  return `${s.table}: ${parts.join(', ')}`;
}

/** The line printed once a source ends. */
export function describeOutcome(s: SourceProgress, now: number): string {
  const took = formatDuration((s.finishedAt ?? now) - (s.startedAt ?? now));
  if (s.phase === 'done') {
    return `${s.table}: done, ${number.format(s.committed)} rows loaded (${number.format(s.rows)} read, ${number.format(s.pages)} pages) in ${took}`;
  }
  return `${s.table}: failed after ${took}${s.committed > 0 ? ` (${number.format(s.committed)} rows committed stay)` : ''}`;
}
