import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestStream } from '../../src/sources/types.js';
import type { Destination } from '../../src/warehouse/destination.js';
import { openDuckDBDestination } from '../../src/warehouse/duckdb/duckdb-destination.js';
import { CheckpointSink, type LoadSink } from '../../src/workflow/load-sinks.js';
import { SliceQueue } from '../../src/workflow/slice-queue.js';
import type { Slice } from '../../src/workflow/slices.js';
import { ManualClock } from '../support/clocks.js';
import { logRow } from '../support/destination.js';

const S = 'ki_sink';
const at = (hour: number) => Date.UTC(2025, 8, 1, hour);
const iso = (ms: number) => new Date(ms).toISOString();
/** The sink only orders slices; which request a slice carries does not matter here. */
const stream = {} as RequestStream;

describe('CheckpointSink.checkpoint (reading waits for a rate limit reset)', () => {
  let dir: string;
  let dest: Destination;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ki-sink-'));
    dest = await openDuckDBDestination(path.join(dir, 'sink.duckdb'));
    await dest.ensureSchema(S);
  });
  afterAll(async () => {
    await dest.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = async () =>
    (await dest.query(`SELECT id FROM ${S}.events ORDER BY id`).catch(() => [])).map((r) => String(r.id));

  it('commits the frontier’s staged rows now, never a slice ahead of it; the rest commits exactly once at the end', async () => {
    const slices: Slice[] = [];
    // No checkpoint falls due on its own: many rows, a long time.
    const sink: LoadSink = new CheckpointSink(
      () => dest.openLoad({ schema: S, table: 'events', mode: 'append', windowColumn: 'datetime' }),
      { rows: 1_000_000, ms: 3_600_000 },
      new ManualClock(at(12)),
    );
    const queue = new SliceQueue((slice) => {
      slices.push(slice);
      sink.register(slice);
    });
    const front = queue.add(0, stream, at(0), at(2));
    const ahead = queue.add(0, stream, at(2), at(4));
    queue.take();
    queue.take();
    await sink.write(front, [{ id: 'a1', datetime: iso(at(0)), time: 1 }]);
    await sink.write(ahead, [{ id: 'b1', datetime: iso(at(2)), time: 1 }]);
    expect(await ids()).toEqual([]);

    await sink.checkpoint();
    await sink.write(front, [{ id: 'a2', datetime: iso(at(1)), time: 1 }]);
    // Committed while the frontier is still being read: its first row only, not the slice ahead.
    await sink.checkpoint();
    expect(await ids()).toEqual(['a1', 'a2']);

    for (const slice of slices) {
      queue.release(slice);
      slice.done = true;
      await sink.sliceDone(slice);
    }
    const totals = await sink.finish(() => [logRow({ table_name: 'events' })]);
    expect(totals.inserted).toBe(3);
    expect(await ids()).toEqual(['a1', 'a2', 'b1']);
  });
});
