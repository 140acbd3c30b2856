/**
 * `verify --repair`: re-reads exactly the (metric, day) pairs that differ, from GET /api/events
 * filtered to the day and to the metric, and loads them into the same table in one commit through
 * the usual load protocol: appended with the (id, datetime) dedupe, so a row already there is never
 * written twice, and with its ingestion-log row in the same transaction.
 */
import { equals } from '../klaviyo/filter.js';
import { narrowedSource } from '../sources/narrowed-source.js';
import type { RequestStream, SourceDefinition, SourceParams } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { formatTemplateTime } from '../util/timestamps.js';
import { DAY_MS } from '../warehouse/day-counts.js';
import type { Destination, LoadTarget } from '../warehouse/destination.js';
import { loadSource } from './load-source.js';
import { logRow } from './log-rows.js';
import type { AccountFetcher } from './types.js';
import type { DayDifference } from './verify-compare.js';

/** One (metric, time range) to read again. */
export interface RepairPiece {
  metricId: string;
  fromMs: number;
  toMs: number;
}

/** The differing days as pieces, each cut to the checked range (a partial first or last day stays partial). */
export function repairPieces(
  differences: readonly DayDifference[],
  fromMs: number,
  toMs: number,
): RepairPiece[] {
  return differences
    .filter((d) => d.klaviyo !== null)
    .map((d) => {
      const day = Date.parse(`${d.day}T00:00:00Z`);
      return { metricId: d.metricId, fromMs: Math.max(day, fromMs), toMs: Math.min(day + DAY_MS, toMs) };
    });
}

/** The events source planned as one request stream per piece (metric and day), never sliced. */
function piecesSource(events: SourceDefinition, pieces: readonly RepairPiece[]): SourceDefinition {
  return {
    spec: events.spec,
    flatten: (record, included) => events.flatten(record, included),
    plan(params: SourceParams): RequestStream[] {
      return pieces.flatMap((piece) =>
        narrowedSource(events, [equals('metric_id', piece.metricId)])
          .plan({ ...params, window: { startMs: piece.fromMs, endMs: piece.toMs } })
          .map((stream) => ({ ...stream, label: `${stream.label} ${piece.metricId}`, sliceable: false })),
      );
    },
  };
}

export interface RepairInput {
  destination: Destination;
  fetcher: AccountFetcher;
  events: SourceDefinition;
  /** The events source's params (revision, related objects); the window comes from the pieces. */
  params: SourceParams;
  schema: string;
  table: string;
  timeColumn: string;
  workflowName: string;
  pieces: readonly RepairPiece[];
  jobId: string;
  clock: Clock;
}

export interface RepairResult {
  /** Rows the repair added to the table. */
  inserted: number;
  /** Rows read that the table already had. */
  duplicatesSkipped: number;
  /** Records read from the API. */
  read: number;
  pages: number;
}

/** Loads the pieces' events into the table in one commit, with STARTED / SUCCESS (or ERROR) log rows. */
export async function repairTable(input: RepairInput): Promise<RepairResult> {
  const { destination, clock } = input;
  const startedAt = clock.now();
  const from = Math.min(...input.pieces.map((p) => p.fromMs));
  const to = Math.max(...input.pieces.map((p) => p.toMs));
  const base = { sourceName: input.table, workflowName: input.workflowName, tableName: input.table };
  const window = { startTime: formatTemplateTime(from), endTime: formatTemplateTime(to) };
  await destination.appendLog(input.schema, [logRow({ ...base, status: 'STARTED', nowMs: startedAt })]);
  const target: LoadTarget = {
    schema: input.schema,
    table: input.table,
    mode: 'append',
    windowColumn: input.timeColumn,
  };
  try {
    const outcome = await loadSource({
      source: piecesSource(input.events, input.pieces),
      params: input.params,
      fetcher: input.fetcher,
      target,
      openSession: () => destination.openLoad(target),
      loadTimeSeconds: Math.floor(startedAt / 1000),
      clock,
      logRows: (totals) => {
        const finishedAt = clock.now();
        return [
          logRow({
            ...base,
            status: 'SUCCESS',
            nowMs: finishedAt,
            ...window,
            records: totals.inserted,
            jobId: input.jobId,
            durationSeconds: (finishedAt - startedAt) / 1000,
          }),
        ];
      },
    });
    return {
      inserted: outcome.inserted,
      duplicatesSkipped: outcome.duplicatesSkipped,
      read: outcome.rows,
      pages: outcome.pages,
    };
  } catch (error) {
    const message = redact(errorMessage(error));
    await destination
      .appendLog(input.schema, [
        logRow({
          ...base,
          status: 'ERROR',
          nowMs: clock.now(),
          ...window,
          errorMessage: `verify --repair of ${input.table} failed: ${message}`,
          jobId: input.jobId,
          durationSeconds: (clock.now() - startedAt) / 1000,
        }),
      ])
      .catch(() => undefined);
    throw error;
  }
}
