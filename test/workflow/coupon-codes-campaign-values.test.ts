/**
 * Coupon codes end to end on DuckDB and PostgreSQL: read per coupon with the filter the API requires
 * (`equals(coupon.id,'…')`), whole every run (mode snapshot), deletions marked per coupon. A first run,
 * a second run that loads nothing twice, then new, changed and deleted codes and a deleted coupon,
 * reflected exactly.
 */

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/simulator/query/filter-parser.js';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';
import { edit } from '../support/project.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const HOUR = 3_600_000;

/** The project's inc datasources become just coupon_codes, a snapshot. */
function project(h: Harness): void {
  edit(h.projectDir, 'config/klaviyo_datasources.yml', (text) =>
    text.replace(
      /inc_datasources:[\s\S]*$/,
      [
        'inc_datasources:',
        '  - name: coupon_codes',
        '    table_name: klaviyo_coupon_codes',
        '    config_file: klaviyo_coupon_codes_load.yml',
        '    incremental_field:',
        '    incremental_field_connector:',
        `    default_start_time: "${formatTemplateTime(Date.UTC(2025, 8, 1))}"`,
        '    workflow_name: klaviyo_ingest.dig',
        '    mode: snapshot',
        '',
      ].join('\n'),
    ),
  );
  writeFileSync(
    path.join(h.projectDir, 'config/klaviyo_coupon_codes_load.yml'),
    [
      'in:',
      '  type: klaviyo',
      '  data_source: ${datasource.name}',
      '  td_authentication_id: 360030',
      'out:',
      '  mode: ${datasource.mode}',
      '',
    ].join('\n'),
  );
}

/** The codes the simulator holds now, as `id|coupon id|status`. */
function simCodes(h: Harness): Set<string> {
  return new Set(h.sim.data.objects.couponCodes.records.map((c) => `${c.id}|${c.couponId}|${c.status}`));
}

async function tableCodes(h: Harness): Promise<{ live: string[]; deleted: string[] }> {
  const rows = await queryDestination(
    h.destination,
    `SELECT id, coupon_id, status, _deleted_at FROM ${h.schema}.klaviyo_coupon_codes`,
  );
  const key = (r: Record<string, unknown>) => `${r.id}|${r.coupon_id}|${r.status}`;
  return {
    live: rows.filter((r) => r._deleted_at === null).map(key),
    deleted: rows.filter((r) => r._deleted_at !== null).map((r) => String(r.id)),
  };
}

// Parquet datasets refuse child collections for now (test/workflow/child-streams.test.ts).
const DESTINATIONS = DESTINATION_KINDS.filter((kind) => kind !== 'parquet');

describe.each(DESTINATIONS)('coupon codes, a snapshot per coupon (%s)', (kind) => {
  const h = useHarness(
    { seed: 5, now: NOW, profiles: 60, events: 50, metrics: 2, coupons: 5, 'coupon-codes': 30 },
    undefined,
    kind,
  );
  let clock: ReturnType<typeof clockFrom>;
  const run = async (extra: { checkpoint?: { rows: number; ms: number } } = {}) => {
    const report = await h.run({ clock, sources: ['coupon_codes'], ...extra });
    const source = report.sources.find((s) => s.name === 'coupon_codes');
    expect([source?.status, source?.error]).toEqual(['SUCCESS', undefined]);
    return source!;
  };

  beforeAll(() => {
    project(h);
    clock = clockFrom(NOW);
  });

  it('a first run loads every coupon’s codes with the coupon id; a second run loads nothing twice', async () => {
    const dry = await h.run({ clock, dryRun: true, sources: ['coupon_codes'] });
    expect(dry.sources[0]?.requests).toEqual([
      `${h.sim.baseUrl}/api/coupon-codes?filter=equals(coupon.id,%27{id}%27)&page[size]=100`,
    ]);
    const first = await run();
    const want = simCodes(h);
    expect(want.size).toBeGreaterThan(10);
    const loaded = await tableCodes(h);
    expect(new Set(loaded.live)).toEqual(want);
    expect(loaded.live).toHaveLength(want.size);
    expect(loaded.deleted).toEqual([]);
    expect(first.records).toBe(want.size);
    // One request per coupon, each naming its coupon in the required filter (no sort: the API has none).
    const requests = h.sim.requestLog().filter((r) => r.endpoint === 'coupon-codes');
    const filtered = requests.map((r) => {
      const [condition] = parseFilter(String(r.query.filter));
      expect(r.query.sort).toBeUndefined();
      expect([condition?.op, condition?.field]).toEqual(['equals', 'coupon.id']);
      return (condition?.value as { value: string } | undefined)?.value;
    });
    expect(new Set(filtered)).toEqual(new Set(h.sim.data.objects.coupons.records.map((c) => c.id)));
    expect(requests.every((r) => r.status === 200)).toBe(true);

    clock.advance(HOUR);
    const second = await run();
    expect(second.markedDeleted).toBe(0);
    const again = await tableCodes(h);
    expect(again.live.sort()).toEqual(loaded.live.sort());
    expect(again.deleted).toEqual([]);
  });

  it('new, handed-out, used and deleted codes and a deleted coupon are reflected exactly', async () => {
    h.sim.advanceTime(2 * HOUR);
    clock.advance(2 * HOUR);
    const before = simCodes(h);
    h.sim.addRecords({ 'coupon-codes': 4 });
    h.sim.updateRecords({ 'coupon-codes': 3 });
    const deletedCodes = h.sim.data.deleteRecords({ 'coupon-codes': 2 })['coupon-codes'] ?? [];
    // A deleted coupon takes its codes with it: they are no longer listed, nor is the coupon.
    const [gone] = h.sim.data.deleteRecords({ coupons: 1 }).coupons ?? [];
    const goneCodes = [...before]
      .map((k) => k.split('|'))
      .filter(([id, coupon]) => coupon === gone && !deletedCodes.includes(id!))
      .map(([id]) => id!);
    expect(goneCodes.length).toBeGreaterThan(0);
    expect(deletedCodes).toHaveLength(2);

    // A commit per coupon: each marks only its own coupon's codes (the last, the deleted coupon's).
    const third = await run({ checkpoint: { rows: 1, ms: 0 } });
    const after = await tableCodes(h);
    expect(new Set(after.live)).toEqual(simCodes(h));
    expect(after.live).toHaveLength(simCodes(h).size);
    expect(new Set(after.deleted)).toEqual(new Set([...deletedCodes, ...goneCodes]));
    expect(third.markedDeleted).toBe(deletedCodes.length + goneCodes.length);
    // The changed codes are live with their new status, once each.
    const changed = [...simCodes(h)].filter((k) => !before.has(k));
    expect(changed.length).toBeGreaterThanOrEqual(4);
  });
});
