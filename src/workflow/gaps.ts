/**
 * Gaps: periods between a datasource's `default_start_time` and the start of this run's window that no
 * load ever covered. The templates resume from the table's max, so a `--start/--end` test run ahead of
 * the data (or a `--start` that skips ahead) leaves the months before it unloaded for good; this finds
 * them from the ingestion log, so the run can say so with the command that back-fills them.
 *
 * Covered = the windows of SUCCESS rows and of ERROR rows that had a window (a failed append committed
 * a prefix of its window in window order, and the next run resumes from the table's max inside it).
 * A hole is reported when it ends where a logged window starts, or at this run's start when that start
 * was given with `--start`. A hole that ends at the table's max with no logged window starting there
 * is what a killed run leaves (it committed checkpoints but wrote no SUCCESS or ERROR row): those rows
 * are in the table, so it is not reported.
 */
import { formatTemplateTime, parseTimestamp } from '../util/timestamps.js';
import type { LoggedWindow } from '../warehouse/ingestion-log.js';

export interface Gap {
  /** Template format, start-inclusive. */
  start: string;
  /** Template format, end-exclusive. */
  end: string;
}

export interface GapInput {
  /** `default_start_time`: where the table's data should begin. */
  defaultStart: string | null;
  /** This run's window start (template format). */
  windowStart: string;
  /** Whether the window start was given with `--start` (else it is the table's max or the default). */
  startOverridden: boolean;
  logged: readonly LoggedWindow[];
}

export function findGaps(input: GapInput): Gap[] {
  const floor = input.defaultStart ? parseTimestamp(input.defaultStart) : null;
  const stop = parseTimestamp(input.windowStart);
  if (floor === null || stop === null || stop <= floor) return [];
  const windows = input.logged
    .map((w) => ({ start: parseTimestamp(w.start_time), end: parseTimestamp(w.end_time) }))
    .filter((w): w is { start: number; end: number } => w.start !== null && w.end !== null && w.end > w.start)
    .sort((a, b) => a.start - b.start);
  const gaps: { start: number; end: number }[] = [];
  let covered = floor;
  for (const window of windows) {
    if (window.start >= stop) break;
    if (window.start > covered) gaps.push({ start: covered, end: window.start });
    covered = Math.max(covered, window.end);
  }
  if (input.startOverridden && covered < stop) gaps.push({ start: covered, end: stop });
  return gaps.map((g) => ({ start: formatTemplateTime(g.start), end: formatTemplateTime(g.end) }));
}
