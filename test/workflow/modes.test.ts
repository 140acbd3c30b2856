import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import type { RunProjectInput } from '../../src/workflow/run-project.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, deleteRows, queryDestination } from '../support/destination.js';
import { type Harness, simValues, useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const INC_START = Date.UTC(2025, 8, 1);
const HOUR = 3600_000;

/** Edits one inc datasource entry of config/klaviyo_datasources.yml. */
function editIncDatasource(h: Harness, table: string, edit: (entry: string) => string): void {
  const file = path.join(h.projectDir, 'config/klaviyo_datasources.yml');
  const text = readFileSync(file, 'utf8');
  const inc = text.indexOf('inc_datasources:');
  const at = text.indexOf(`table_name: ${table}\n`, inc);
  const end = text.indexOf('\n\n', at);
  const entry = text.slice(at, end === -1 ? undefined : end);
  writeFileSync(file, text.slice(0, at) + edit(entry) + (end === -1 ? '' : text.slice(end)));
}

function run(h: Harness, clock: ReturnType<typeof clockFrom>, extra: Partial<RunProjectInput> = {}) {
  return h.run({ clock, ...extra });
}

describe.each(DESTINATION_KINDS)('lookback: re-reading a trailing period for late events (%s)', (kind) => {
  const h = useHarness({ seed: 13, now: NOW, events: 5000, profiles: 100 }, undefined, kind);
  beforeAll(async () => {
    editIncDatasource(h, 'klaviyo_events', (entry) => `${entry}\n    lookback: 12h`);
  });

  it('restores records that were missing inside the lookback, without duplicating the rest', async () => {
    const clock = clockFrom(NOW);
    const firstEnd = NOW - 6 * HOUR;
    expect((await run(h, clock, { sources: ['events'], end: formatTemplateTime(firstEnd) })).ok).toBe(true);
    // Events that "arrived late": not there when the first run read their period.
    await deleteRows(
      h.destination,
      h.schema,
      'klaviyo_events',
      `id IN (SELECT id FROM ${h.schema}.klaviyo_events ORDER BY CAST(datetime AS TIMESTAMPTZ) DESC LIMIT 5 OFFSET 3)`,
    );
    const [{ m: max } = {}] = await queryDestination(
      h.destination,
      `SELECT max(CAST(datetime AS TIMESTAMPTZ)) AS m FROM ${h.schema}.klaviyo_events`,
    );
    const second = await run(h, clock, { sources: ['events'] });
    expect(second.ok).toBe(true);
    const maxMs = Math.floor(new Date(String(max)).getTime() / 1000) * 1000;
    expect(second.sources[0]?.startTime).toBe(formatTemplateTime(maxMs - 12 * HOUR));
    expect(second.sources[0]?.duplicatesSkipped).toBeGreaterThan(0);
    const end = Date.parse(`${String(second.sources[0]?.endTime).slice(0, 19)}Z`);
    const expected = h.sim.count('events', { field: 'datetime', gte: INC_START, lt: end });
    const [row] = await queryDestination(
      h.destination,
      `SELECT count(*) AS n, count(DISTINCT (id, datetime)) AS d FROM ${h.schema}.klaviyo_events`,
    );
    expect(Number(row?.n)).toBe(expected);
    expect(Number(row?.d)).toBe(expected);
  });

  it('a lookback that is not a duration is a config error naming the file and key', async () => {
    editIncDatasource(h, 'klaviyo_events', (entry) => entry.replace('lookback: 12h', 'lookback: two hours'));
    await expect(run(h, clockFrom(NOW), { sources: ['events'] })).rejects.toThrow(
      /lookback "two hours" of datasource events is not a duration/,
    );
    editIncDatasource(h, 'klaviyo_events', (entry) => entry.replace('lookback: two hours', 'lookback: 12h'));
  });
});

describe.each(DESTINATION_KINDS)('merge: one current row per id (%s)', (kind) => {
  const h = useHarness({ seed: 17, now: NOW, events: 100, profiles: 400 }, undefined, kind);
  beforeAll(async () => {
    editIncDatasource(h, 'klaviyo_profiles', (entry) => entry.replace('mode: append', 'mode: merge'));
  });

  it('keeps the latest version of each profile after updates', async () => {
    const clock = clockFrom(NOW);
    expect((await run(h, clock, { sources: ['profiles'] })).ok).toBe(true);
    h.sim.advanceTime(HOUR);
    h.sim.updateRecords({ profiles: 60 });
    h.sim.addRecords({ profiles: 10 });
    clock.advance(HOUR);
    const second = await run(h, clock, { sources: ['profiles'] });
    expect(second.ok).toBe(true);
    const end = Date.parse(`${String(second.sources[0]?.endTime).slice(0, 19)}Z`);
    // Exactly the profiles whose current version is in the window, each with that version.
    const expected = simValues(h.sim, 'profiles', 'updated')
      .filter((p) => p.ms >= INC_START && p.ms < end)
      .map((p) => `${p.id}|${Math.floor(p.ms / 1000)}`)
      .sort();
    const rows = await queryDestination(
      h.destination,
      `SELECT id, CAST(floor(extract(epoch FROM CAST(updated AS TIMESTAMPTZ))) AS BIGINT) AS s FROM ${h.schema}.klaviyo_profiles`,
    );
    expect(rows.map((r) => `${r.id}|${r.s}`).sort()).toEqual(expected);
  });
});
