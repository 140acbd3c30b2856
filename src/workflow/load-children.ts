/**
 * A child collection's (or a report's) load (memberships of each list, actions of each flow …): read the parents'
 * ids, then each parent's children, committing each parent's rows together with its cursor in
 * `ingestion_parents`. A parent's window starts where its last read ended, less the lookback (a new
 * parent: at the run's start, the datasource's `default_start_time`), so a failure or kill loses nothing
 * and a rerun skips the parents the interrupted run completed (still pending) and reads only the rest.
 * In `snapshot` mode (coupon codes) each parent is read whole: its rows are staged at once with its
 * completion, so the commit that completes it marks its rows no longer returned, and the last commit
 * marks the rows of parents no longer listed.
 */

import type { Row } from '../records/row.js';
import { TIME_COLUMN } from '../records/row.js';
import { collectionSource } from '../sources/collection-source.js';
import { indexIncluded } from '../sources/flatten.js';
import type { ParentSpec } from '../sources/stream.js';
import type { SourceParams } from '../sources/types.js';
import { configError, IngestError } from '../util/errors.js';
import { Mutex } from '../util/mutex.js';
import { formatTemplateTime, parseTimestamp } from '../util/timestamps.js';
import type { LoadSession } from '../warehouse/destination.js';
import type { ParentCursor } from '../warehouse/parent-cursors.js';
import { resolveConversionMetric } from './conversion-metric.js';
import { DEFAULT_CHECKPOINT, type LoadOutcome, type LoadSourceInput } from './load-source.js';
import { runPool } from './pool.js';
import type { AccountFetcher } from './types.js';

/** How often one parent is read again from its start after its page cursor expired. */
const MAX_CURSOR_RESTARTS = 3;

export interface LoadChildrenInput extends LoadSourceInput {
  /** How far before a parent's last window end its next window starts (late memberships). */
  lookbackMs: number;
  /** The parents read so far (`ingestion_parents`). */
  readCursors: () => Promise<Map<string, ParentCursor>>;
  /** Parents read in parallel (the limiter still paces every request). */
  parentWorkers: number;
}

/** The ids of every record of the parent stream (itself read per grandparent when it is a child). */
export async function readParentIds(
  parent: ParentSpec,
  params: SourceParams,
  fetcher: AccountFetcher,
  signal?: AbortSignal,
): Promise<string[]> {
  const source = collectionSource(parent.stream);
  const full: SourceParams = {
    dataSource: parent.stream.name,
    windowField: null,
    window: { startMs: null, endMs: null },
    revision: params.revision,
    skipRelatedObjects: true,
    additionalFields: [],
  };
  const grandparents =
    parent.stream.parent === undefined
      ? [undefined]
      : await readParentIds(parent.stream.parent, params, fetcher, signal);
  const ids = new Set<string>();
  for (const grandparent of grandparents) {
    for (const stream of source.plan(full, grandparent)) {
      for await (const page of fetcher.paginate(stream.path, stream.query, signal ? { signal } : {}))
        for (const record of page.data) ids.add(record.id);
    }
  }
  return [...ids];
}

const DAY = 86_400_000;

/** The cursor key of a report that has no parents. */
const WHOLE_ACCOUNT = '*';

/**
 * A report's window as requests of at most `maxDays`: from the UTC midnight at or before the start
 * (a day is never read in part, or its row would be replaced by a part count) to the window's end.
 */
export function dayRanges(
  window: SourceParams['window'],
  endMs: number,
  maxDays: number,
  stream: string,
): { startMs: number; endMs: number }[] {
  if (window.startMs === null) {
    throw configError(`data_source '${stream}' is a report: it needs a start day`, {
      code: 'REPORT_WITHOUT_START',
      key: 'default_start_time',
      fix: 'set default_start_time and incremental_field: date for this datasource',
    });
  }
  const end = window.endMs ?? endMs;
  const ranges: { startMs: number; endMs: number }[] = [];
  for (let start = Math.floor(window.startMs / DAY) * DAY; start < end; start += maxDays * DAY)
    ranges.push({ startMs: start, endMs: Math.min(end, start + maxDays * DAY) });
  return ranges;
}

/** What one commit of a child collection carries: rows staged since the last one, parents completed. */
interface Batch {
  session: LoadSession | null;
  rows: number;
  done: { parentId: string; endTime: string }[];
  /** Memberships: the member ids of each parent completed in the batch. */
  members: Map<string, string[]>;
}

const emptyBatch = (): Batch => ({ session: null, rows: 0, done: [], members: new Map() });

export async function loadChildren(input: LoadChildrenInput): Promise<LoadOutcome> {
  const { source, fetcher } = input;
  const parent = source.spec.parent;
  if (!parent && !source.spec.report) throw new Error(`internal: ${source.spec.name} reads no parents`);
  const abort = new AbortController();
  const signal = abort.signal;
  input.signal?.addEventListener('abort', () => abort.abort(input.signal?.reason), { once: true });
  const params = source.spec.report?.requires?.includes('conversion_metric_id')
    ? await resolveConversionMetric(input.params, fetcher, signal)
    : input.params;
  // A report of the whole account (flow series) is one parent of its own, kept as `*`.
  const parentIds = parent ? await readParentIds(parent, params, fetcher, signal) : [WHOLE_ACCOUNT];
  const cursors = await input.readCursors();
  const endMs = params.window.endMs ?? input.clock.now();
  const endTime = formatTemplateTime(endMs);
  const outcome: LoadOutcome = { inserted: 0, duplicatesSkipped: 0, rows: 0, pages: 0, slices: 0 };
  const snapshot =
    input.target.mode === 'snapshot' && parent
      ? { column: parent.column, listed: parentIds.filter((id) => id !== WHOLE_ACCOUNT) }
      : undefined;
  const policy = input.checkpoint ?? DEFAULT_CHECKPOINT;
  let failure: unknown = null;

  // Parents are read in parallel into one staged batch; at a checkpoint (rows or time, as appends do)
  // the batch commits with the cursors of the parents completed in it. A parent cut by a checkpoint
  // has rows in two batches and its cursor in the later one; rows read again after a failure are
  // dropped by the commit's dedupe.
  let batch = emptyBatch();
  let lastCommitAt = input.clock.now();
  const staging = new Mutex();
  const commits = new Mutex();
  const write = (rows: Row[]) =>
    staging.run(async () => {
      batch.session ??= await input.openSession();
      batch.rows += rows.length;
      await batch.session.write(rows);
    });
  const commit = async (b: Batch, final: boolean) => {
    const session = b.session ?? (await input.openSession());
    const result = await session.commit(
      (loaded) =>
        final
          ? input.logRows({
              inserted: outcome.inserted + loaded.inserted,
              duplicatesSkipped: outcome.duplicatesSkipped + loaded.duplicatesSkipped,
            })
          : [],
      {
        done: b.done,
        complete: final,
        ...(snapshot ? { snapshot } : {}),
        ...(memberIds && parent?.ownIdColumn
          ? { members: { parentColumn: parent.column, memberColumn: parent.ownIdColumn, current: b.members } }
          : {}),
      },
    );
    outcome.inserted += result.inserted;
    outcome.duplicatesSkipped += result.duplicatesSkipped;
    if (result.markedDeleted !== undefined)
      outcome.markedDeleted = (outcome.markedDeleted ?? 0) + result.markedDeleted;
  };
  const checkpoint = async () => {
    const due = batch.rows >= policy.rows || input.clock.now() - lastCommitAt >= policy.ms;
    if (!due) return;
    const full = await staging.run(async () => {
      const taken = batch;
      batch = emptyBatch();
      lastCommitAt = input.clock.now();
      return taken;
    });
    await commits.run(() => commit(full, false));
  };

  const windowOf = (cursor: ParentCursor | undefined): SourceParams['window'] => {
    if (params.windowField === null && source.spec.implicitWindowField === undefined) return params.window;
    const lastEnd = cursor ? parseTimestamp(cursor.endTime) : null;
    const startMs =
      lastEnd === null
        ? params.window.startMs
        : Math.max(lastEnd - input.lookbackMs, params.window.startMs ?? -Infinity);
    return { startMs, endMs: params.window.endMs };
  };

  /**
   * Reads one parent's window, handing its rows to `emit` (the batch, or in snapshot mode the parent's
   * own buffer); returns the rows and pages read.
   */
  const readOnce = async (
    parentId: string,
    cursor: ParentCursor | undefined,
    emit: (rows: Row[]) => Promise<void>,
  ) => {
    let rows = 0;
    let pages = 0;
    const report = source.spec.report;
    if (report) {
      for (const range of dayRanges(windowOf(cursor), endMs, report.maxDays, source.spec.name)) {
        const of = parentId === WHOLE_ACCOUNT ? undefined : parentId;
        const body = report.body(range.startMs, range.endMs, of, params);
        const document = await fetcher.post(source.spec.endpoint, body, { signal });
        pages++;
        const found = report.rows(document, of, range);
        for (const row of found) row[TIME_COLUMN] = input.loadTimeSeconds;
        if (found.length > 0) await emit(found);
        rows += found.length;
      }
      return { rows, pages };
    }
    for (const stream of source.plan({ ...params, window: windowOf(cursor) }, parentId)) {
      for await (const page of fetcher.paginate(stream.path, stream.query, {
        signal,
        rawJsonAttributes: true,
      })) {
        pages++;
        const included = indexIncluded(page.included);
        const found: Row[] = [];
        let past = false;
        for (const record of page.data) {
          const value = stream.windowValueMs(record);
          if (stream.ascending && stream.pastEnd(value)) {
            past = true;
            break;
          }
          if (!stream.inWindow(value)) continue;
          const row = source.flatten(record, included, parentId);
          row[TIME_COLUMN] = input.loadTimeSeconds;
          found.push(row);
        }
        if (found.length > 0) await emit(found);
        rows += found.length;
        if (past) break;
      }
    }
    return { rows, pages };
  };

  /**
   * Memberships: the ids of the parent's members now, read whole (ids only), so the commit marks the
   * rows of those who left. Read after the parent's rows: a member who left since is marked now.
   */
  const memberIds = parent?.memberIds ? collectionSource(parent.memberIds) : null;
  const readMembers = async (parentId: string) => {
    const ids: string[] = [];
    let pages = 0;
    const whole: SourceParams = {
      ...params,
      windowField: null,
      window: { startMs: null, endMs: null },
      skipRelatedObjects: true,
      additionalFields: [],
    };
    for (const stream of memberIds?.plan(whole, parentId) ?? []) {
      for await (const page of fetcher.paginate(stream.path, stream.query, { signal })) {
        pages++;
        for (const record of page.data) ids.push(record.id);
      }
    }
    return { ids, pages };
  };

  const readParent = async (parentId: string) => {
    const cursor = cursors.get(parentId);
    // Completed by the run that was interrupted: its rows are in; the next run reads on from there.
    if (cursor?.pending === true || failure !== null) return;
    for (let restarts = 0; ; restarts++) {
      try {
        // A snapshot parent's rows wait for its last page: they must commit with its completion.
        const held: Row[] = [];
        const emit = snapshot
          ? async (rows: Row[]) => {
              held.push(...rows);
            }
          : write;
        const read = await readOnce(parentId, cursor, emit);
        const members = memberIds ? await readMembers(parentId) : null;
        outcome.rows += read.rows;
        outcome.pages += read.pages + (members?.pages ?? 0);
        outcome.slices++;
        await staging.run(async () => {
          if (held.length > 0) {
            batch.session ??= await input.openSession();
            batch.rows += held.length;
            await batch.session.write(held);
          }
          batch.done.push({ parentId, endTime });
          if (members) {
            batch.members.set(parentId, members.ids);
            batch.rows += members.ids.length;
          }
        });
        await checkpoint();
        return;
      } catch (error) {
        // An expired page cursor: read the parent again from its start (the dedupe drops repeats).
        const expired = error instanceof IngestError && error.code === 'KLAVIYO_CURSOR_EXPIRED';
        if (!expired || restarts >= MAX_CURSOR_RESTARTS) throw error;
      }
    }
  };

  await runPool(parentIds, input.parentWorkers, async (parentId) => {
    try {
      await readParent(parentId);
    } catch (error) {
      if (failure === null) failure = error;
      abort.abort(error);
    }
  });
  if (failure !== null) {
    await commits.run(async () => undefined);
    await batch.session?.abort().catch(() => undefined);
    throw failure;
  }

  // The last commit: the rest of the rows, the SUCCESS row, and no parent of the table pending any more.
  const last = batch;
  // Memberships of a parent read before that no longer exists (a deleted list): every row is marked.
  if (memberIds) {
    const present = new Set(parentIds);
    for (const parentId of cursors.keys()) if (!present.has(parentId)) last.members.set(parentId, []);
  }
  try {
    await commits.run(() => commit(last, true));
  } catch (error) {
    await last.session?.abort().catch(() => undefined);
    throw error;
  }
  return outcome;
}
