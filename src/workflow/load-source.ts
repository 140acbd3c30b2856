import { indexIncluded, TIME_COLUMN } from '../sources/flatten.js';
import type { RequestStream, SourceDefinition, SourceParams } from '../sources/types.js';
import type { LoadSession, Row } from '../warehouse/destination.js';
import type { AccountFetcher } from './types.js';

export interface LoadCounts {
  /** Records inside the window handed to the destination. */
  rows: number;
  pages: number;
}

export interface LoadSourceInput {
  source: SourceDefinition;
  params: SourceParams;
  fetcher: AccountFetcher;
  session: LoadSession;
  /** The `time` column: the load's start, whole unix seconds, the same for every row (TD's add_time upload_time). */
  loadTimeSeconds: number;
  batchSize: number;
  signal?: AbortSignal;
}

/** Streams every request of the source's plan page by page into the load session, in bounded batches. */
export async function loadSource(input: LoadSourceInput): Promise<LoadCounts> {
  const counts: LoadCounts = { rows: 0, pages: 0 };
  let batch: Row[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    await input.session.write(rows);
  };
  for (const stream of input.source.plan(input.params)) {
    for await (const rows of streamRows(input, stream, counts)) {
      for (const row of rows) batch.push(row);
      if (batch.length >= input.batchSize) await flush();
    }
  }
  await flush();
  return counts;
}

async function* streamRows(
  input: LoadSourceInput,
  stream: RequestStream,
  counts: LoadCounts,
): AsyncGenerator<Row[]> {
  const options = input.signal ? { signal: input.signal } : undefined;
  for await (const page of input.fetcher.paginate(stream.path, stream.query, options)) {
    counts.pages++;
    const included = indexIncluded(page.included);
    const rows: Row[] = [];
    let past = false;
    for (const record of page.data) {
      if (stream.ascending && stream.pastEnd(record)) {
        past = true;
        break;
      }
      if (!stream.keep(record)) continue;
      const row = input.source.flatten(record, included);
      row[TIME_COLUMN] = input.loadTimeSeconds;
      rows.push(row);
    }
    counts.rows += rows.length;
    yield rows;
    // Sorted ascending and already past the window end: the remaining pages are all outside it.
    if (past) return;
  }
}
