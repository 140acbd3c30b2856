import { type RateTier, tierOf } from '../klaviyo/rate-tiers.js';
import type { SourceDefinition, SourceParams } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import type { LoadResult, LoadTarget } from '../warehouse/destination.js';
import { type FetchInput, fetchSlices } from './fetch-slices.js';
import {
  type CheckpointPolicy,
  CheckpointSink,
  type FinalLogRows,
  type LoadSink,
  type OpenSession,
  SingleCommitSink,
} from './load-sinks.js';
import { isSliceable } from './slices.js';
import type { AccountFetcher } from './types.js';

/** Requests of one source in flight by the endpoint's rate tier; the limiter still paces them. */
export const WORKERS_BY_TIER: Record<RateTier, number> = { XS: 1, S: 2, M: 4, L: 6, XL: 8 };

export const DEFAULT_CHECKPOINT: CheckpointPolicy = { rows: 50_000, ms: 30_000 };

export interface LoadSourceInput {
  source: SourceDefinition;
  params: SourceParams;
  fetcher: AccountFetcher;
  target: LoadTarget;
  openSession: OpenSession;
  /** The `time` column: the load's start, whole unix seconds, the same for every row (TD's add_time upload_time). */
  loadTimeSeconds: number;
  /** The SUCCESS row(s), committed together with the load's last rows. */
  logRows: FinalLogRows;
  clock: Clock;
  checkpoint?: CheckpointPolicy;
  /** A fixed number of requests in flight for this source (default: adaptive, up to its tier's). */
  workers?: number;
  signal?: AbortSignal;
  onPage?: FetchInput['onPage'];
}

export interface LoadOutcome extends LoadResult {
  /** Records inside the window that were read (before duplicates were dropped). */
  rows: number;
  pages: number;
  slices: number;
}

/**
 * One source's load: plan the requests, fetch them (time slices in parallel where the API allows),
 * stage and commit. Appends of a window the API returns in ascending order are checkpointed in window
 * order; everything else (replace, merge, unsorted or partitioned sources) commits once at the end.
 */
export async function loadSource(input: LoadSourceInput): Promise<LoadOutcome> {
  const streams = input.source.plan(input.params);
  const sliceable = isSliceable(streams);
  const ordered = streams.length === 1 && streams[0]?.ascending === true;
  const checkpointed = input.target.mode === 'append' && input.target.windowColumn !== null && ordered;
  const sink: LoadSink = checkpointed
    ? new CheckpointSink(input.openSession, input.checkpoint ?? DEFAULT_CHECKPOINT, input.clock)
    : new SingleCommitSink(input.openSession);
  try {
    const counts = await fetchSlices({
      source: input.source,
      params: input.params,
      fetcher: input.fetcher,
      sink,
      streams,
      sliceable,
      dedupesRereads:
        input.target.mode === 'merge' ||
        input.target.mode === 'snapshot' ||
        (input.target.mode === 'append' && input.target.windowColumn !== null),
      workers: input.workers ?? WORKERS_BY_TIER[tierOf(input.source.spec.endpoint)],
      adaptive: input.workers === undefined,
      loadTimeSeconds: input.loadTimeSeconds,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.onPage ? { onPage: input.onPage } : {}),
    });
    const result = await sink.finish(input.logRows);
    return { ...result, rows: counts.rows, pages: counts.pages, slices: counts.slices };
  } catch (error) {
    await sink.abort().catch(() => undefined);
    throw error;
  }
}
