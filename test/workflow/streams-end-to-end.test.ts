/**
 * Every stream beside the templates' six, end to end against the simulator on each destination: a
 * first run, a second run that loads nothing twice, and mutations in the simulator (updates, deletes,
 * suppressions set and lifted) reflected exactly: incremental streams append the new versions,
 * snapshot streams mark what Klaviyo no longer returns in `_deleted_at`.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CollectionName } from '../../src/klaviyo/endpoints/index.js';
import { EXTRA_STREAMS, LOAD_CONFIG_METRICS, templateFiles } from '../../src/scaffold/index.js';
import type { SimulatorData } from '../../src/simulator/index.js';
import type { SourceReport } from '../../src/workflow/types.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const INC_START = Date.UTC(2025, 8, 1);
const HOUR = 3600_000;
const SUPPRESSED_AT = 'subscriptions.email.marketing.suppression.timestamp';

interface StreamCase {
  name: string;
  table: string;
  /** The simulator's collection. */
  collection: CollectionName;
  /** Incremental: the simulator field of the window. Snapshot: null. */
  window: string | null;
  /** A column whose value an update changes, and the simulator attribute it comes from. */
  changed?: string;
}

const CASE_LIST: Omit<StreamCase, 'table'>[] = [
  { name: 'segments', collection: 'segments', window: 'updated' },
  { name: 'flows', collection: 'flows', window: 'updated' },
  { name: 'forms', collection: 'forms', window: 'updated_at' },
  { name: 'images', collection: 'images', window: 'updated_at' },
  { name: 'tags', collection: 'tags', window: null, changed: 'name' },
  { name: 'tag_groups', collection: 'tag-groups', window: null, changed: 'name' },
  { name: 'coupons', collection: 'coupons', window: null, changed: 'description' },
  { name: 'catalog_items', collection: 'catalog-items', window: null, changed: 'title' },
  { name: 'catalog_variants', collection: 'catalog-variants', window: null, changed: 'title' },
  { name: 'catalog_categories', collection: 'catalog-categories', window: null, changed: 'name' },
  { name: 'push_tokens', collection: 'push-tokens', window: null, changed: 'enablement_status' },
  { name: 'global_exclusions', collection: 'profiles', window: null },
];
/** Streams with a window can be read whole too: these datasources read them in mode snapshot. */
const SNAPSHOTS_OF_INCREMENTAL: StreamCase[] = [
  {
    name: 'segments',
    table: 'klaviyo_segments_all',
    collection: 'segments',
    window: null,
    changed: 'updated',
  },
  { name: 'flows', table: 'klaviyo_flows_all', collection: 'flows', window: null, changed: 'updated' },
];
const CASES: readonly StreamCase[] = [
  ...CASE_LIST.map((c) => ({ ...c, table: `klaviyo_${c.name}` })),
  ...SNAPSHOTS_OF_INCREMENTAL,
];
const TABLES = CASES.map((c) => c.table);

/** The ids a stream should hold now: a window's worth, or (snapshots) everything the API returns. */
function expectedIds(data: SimulatorData, c: StreamCase, endMs: number): string[] {
  if (c.name === 'global_exclusions') return data.ids('profiles', (get) => get(SUPPRESSED_AT) !== null);
  if (c.window === null) return data.ids(c.collection);
  const field = c.window;
  return data.ids(c.collection, (get) => {
    const ms = get(field) as number;
    return ms >= INC_START && ms < endMs;
  });
}

/** The simulator's current value of a stream's `changed` column, by id. */
function currentValues(data: SimulatorData, c: StreamCase): Map<string, unknown> {
  const coll = data.collection(c.collection);
  const ctx = {
    baseUrl: 'http://127.0.0.1',
    revision: { date: '2026-07-15', pre: false },
    additional: new Set<string>(),
    include: new Set<string>(),
  };
  const values = new Map<string, unknown>();
  for (let i = 0; i < coll.size(); i++) {
    const resource = coll.resource(i, ctx);
    values.set(resource.id, resource.attributes[c.changed as string]);
  }
  return values;
}

function endOf(report: SourceReport): number {
  return Date.parse(`${report.endTime.slice(0, 19)}Z`);
}

describe.each(DESTINATION_KINDS)('every added stream, end to end (%s)', (kind) => {
  const h: Harness = useHarness({ seed: 29, now: NOW, events: 20, profiles: 300 }, 60_000, kind);
  const clock = clockFrom(NOW);
  const reports = new Map<string, SourceReport[]>();
  const firstRows = new Map<string, Record<string, unknown>[]>();

  async function run(): Promise<void> {
    const report = await h.run({ sources: TABLES, clock });
    expect(report.sources.map((s) => [s.table, s.status, s.error])).toEqual(
      TABLES.map((table) => [table, 'SUCCESS', undefined]),
    );
    for (const source of report.sources)
      reports.set(source.table, [...(reports.get(source.table) ?? []), source]);
  }

  const rows = (c: StreamCase) =>
    queryDestination(h.destination, `SELECT * FROM ${h.schema}.${c.table} ORDER BY id`);

  beforeAll(async () => {
    // The project `init --streams all` writes: the added datasource entries and load configs.
    for (const file of templateFiles(EXTRA_STREAMS)) {
      const target = path.join(h.projectDir, file.path);
      if (file.path === 'config/klaviyo_datasources.yml' || !existsSync(target))
        writeFileSync(target, file.content);
    }
    const datasources = path.join(h.projectDir, 'config/klaviyo_datasources.yml');
    for (const c of SNAPSHOTS_OF_INCREMENTAL) {
      appendFileSync(
        datasources,
        `\n  - name: ${c.name}\n    table_name: ${c.table}\n    config_file: ${c.table}_load.yml\n    incremental_field:\n    incremental_field_connector:\n    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: snapshot\n`,
      );
      writeFileSync(path.join(h.projectDir, `config/${c.table}_load.yml`), LOAD_CONFIG_METRICS);
    }
    await run();
    for (const c of CASES) firstRows.set(c.table, await rows(c));
  }, 60_000);

  it.each(CASES)('first run: $table holds exactly what the API returns', async (c) => {
    const [first] = reports.get(c.table) ?? [];
    const table = firstRows.get(c.table) ?? [];
    const want = expectedIds(h.sim.data, c, endOf(first!)).sort();
    expect(want.length).toBeGreaterThan(0);
    expect(table.map((r) => r.id)).toEqual(want);
    expect(first?.records).toBe(want.length);
    if (c.window === null) expect(table.every((r) => r._deleted_at === null)).toBe(true);
  });

  it('second run without changes loads nothing twice', async () => {
    clock.advance(HOUR);
    await run();
    for (const c of CASES) {
      const second = reports.get(c.table)?.[1];
      const now = await rows(c);
      expect({ stream: c.name, rows: now.length }).toEqual({
        stream: c.name,
        rows: firstRows.get(c.table)?.length,
      });
      if (c.window !== null)
        expect({ stream: c.name, inserted: second?.records }).toEqual({ stream: c.name, inserted: 0 });
      else expect({ stream: c.name, marked: second?.markedDeleted }).toEqual({ stream: c.name, marked: 0 });
    }
  }, 60_000);

  it('updates, deletes and suppressions in Klaviyo are reflected exactly', async () => {
    const data = h.sim.data;
    h.sim.advanceTime(HOUR);
    clock.advance(HOUR);
    const updates = Object.fromEntries(
      CASES.filter((c) => c.name !== 'global_exclusions').map((c) => [c.collection, 2]),
    );
    h.sim.updateRecords(updates);
    const deleted = data.deleteRecords({
      segments: 1,
      flows: 1,
      tags: 1,
      'tag-groups': 1,
      coupons: 1,
      'catalog-items': 1,
      'catalog-variants': 1,
      'catalog-categories': 1,
      'push-tokens': 1,
    });
    const suppressed = data.setSuppression(2, true);
    const lifted = data.setSuppression(1, false);
    clock.advance(1000);
    await run();

    for (const c of CASES) {
      const third = reports.get(c.table)?.[2] as SourceReport;
      const before = firstRows.get(c.table) ?? [];
      const now = await rows(c);
      const want = expectedIds(data, c, endOf(third)).sort();
      if (c.window !== null) {
        // Append: each edited record still in Klaviyo comes back once, with its new version.
        const column = c.window === 'updated' ? 'updated' : 'updated_at';
        const second = (value: unknown) => Math.floor(Date.parse(String(value)) / 1000) * 1000;
        const versions = new Set(now.map((r) => `${r.id}|${second(r[column])}`));
        expect(versions.size).toBe(now.length);
        const field = data.collection(c.collection).field(c.window)!;
        const latest = data
          .ids(c.collection)
          .map((id, i) => `${id}|${Math.floor((field.get(i) as number) / 1000) * 1000}`)
          .filter((key) => want.includes(key.split('|')[0] as string));
        for (const key of latest) expect(versions.has(key), `${c.name} ${key}`).toBe(true);
        const beforeVersions = new Set(before.map((r) => `${r.id}|${second(r[column])}`));
        const fresh = latest.filter((key) => !beforeVersions.has(key)).length;
        expect({ stream: c.name, fresh: fresh >= 1 && fresh <= 2 }).toEqual({ stream: c.name, fresh: true });
        expect({ stream: c.name, inserted: third.records }).toEqual({ stream: c.name, inserted: fresh });
        expect({ stream: c.name, rows: now.length }).toEqual({ stream: c.name, rows: before.length + fresh });
        // Klaviyo does not tell a windowed read what it deleted: the deleted segment and flow stay.
        const everSeen = [...new Set([...before.map((r) => String(r.id)), ...want])].sort();
        expect([...new Set(now.map((r) => String(r.id)))].sort()).toEqual(everSeen);
        continue;
      }
      // Snapshot: live rows are exactly what the API returns now, each as it is now; the rest are marked.
      const live = now.filter((r) => r._deleted_at === null);
      const gone = now.filter((r) => r._deleted_at !== null);
      expect({ stream: c.name, live: live.map((r) => r.id) }).toEqual({ stream: c.name, live: want });
      const goneIds = before.map((r) => String(r.id)).filter((id) => !want.includes(id));
      expect({ stream: c.name, gone: gone.map((r) => r.id) }).toEqual({ stream: c.name, gone: goneIds });
      expect(third.markedDeleted).toBe(goneIds.length);
      const deletedAt = Date.parse(String(gone[0]?._deleted_at));
      expect(deletedAt).toBeGreaterThanOrEqual(NOW + 2 * HOUR);
      expect(gone.every((r) => Date.parse(String(r._deleted_at)) === deletedAt)).toBe(true);
      if (c.changed !== undefined) {
        const values = currentValues(data, c);
        for (const r of live) {
          expect({ id: r.id, value: r[c.changed] }).toEqual({ id: r.id, value: values.get(String(r.id)) });
        }
        // The edits are there (two records were edited; one may have been deleted since).
        const was = new Map(before.map((r) => [String(r.id), r[c.changed as string]]));
        const edited = live.filter((r) => was.get(String(r.id)) !== r[c.changed as string]).length;
        expect({ stream: c.name, edited: edited >= 1 && edited <= 2 }).toEqual({
          stream: c.name,
          edited: true,
        });
      }
    }
    for (const [name, list] of Object.entries(deleted))
      expect({ name, n: list?.length }).toEqual({ name, n: 1 });
    const exclusions = await rows(CASES.find((c) => c.name === 'global_exclusions')!);
    expect(Object.keys(deleted).length).toBe(9);
    for (const id of suppressed) expect(exclusions.find((r) => r.id === id)?._deleted_at).toBeNull();
    for (const id of lifted) expect(exclusions.find((r) => r.id === id)?._deleted_at).not.toBeNull();
  }, 60_000);
});
