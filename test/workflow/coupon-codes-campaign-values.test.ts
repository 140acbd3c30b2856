/**
 * Coupon codes and campaign values end to end on DuckDB and PostgreSQL, one simulator and project per
 * destination. Coupon codes: read per coupon with the filter the API requires (`equals(coupon.id,'…')`),
 * whole every run (mode snapshot), deletions marked per coupon; a first run, a second run that loads
 * nothing twice, then new, changed and deleted codes and a deleted coupon, reflected exactly. Campaign
 * values: one report request per UTC day (the report has no interval), merged on
 * `<message>:<channel>:<date>`, re-read over the lookback; a revised day is replaced, not added.
 * The clock's sleeps take no time (the report endpoint allows one request a second).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { campaignKey } from '../../src/simulator/http/campaign-values.js';
import { parseFilter } from '../../src/simulator/query/filter-parser.js';
import { formatTemplateTime, parseTimestamp } from '../../src/util/timestamps.js';
import { InstantClock } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';
import { edit } from '../support/project.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Campaign values from three days before NOW's day: four one-day requests on the first run. */
const VALUES_START = Date.UTC(2025, 9, 12);

/** The project's inc datasources become coupon_codes (a snapshot) and campaign_values_daily. */
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
        '  - name: campaign_values_daily',
        '    table_name: klaviyo_campaign_values_daily',
        '    config_file: klaviyo_campaign_values_daily_load.yml',
        '    incremental_field: date',
        '    incremental_field_connector: date',
        `    default_start_time: "${formatTemplateTime(VALUES_START)}"`,
        '    workflow_name: klaviyo_ingest.dig',
        '    mode: merge',
        '    lookback: 2d',
        '',
      ].join('\n'),
    ),
  );
  writeFileSync(
    path.join(h.projectDir, 'config/klaviyo_campaign_values_daily_load.yml'),
    [
      'in:',
      '  type: klaviyo',
      '  data_source: ${datasource.name}',
      '  td_authentication_id: 360030',
      '  incremental: true',
      '  start_time: ${td.last_results.start_time}',
      '  end_time: ${td.last_results.end_time}',
      '  incremental_field: ${datasource.incremental_field_connector}',
      // By name, as init writes it: looked up in /api/metrics when the report runs.
      `  conversion_metric: ${h.sim.data.metrics.records[0]!.name}`,
      'out:',
      '  mode: ${datasource.mode}',
      '',
    ].join('\n'),
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

describe.each(DESTINATION_KINDS)('coupon codes and campaign values (%s)', (kind) => {
  const h = useHarness(
    { seed: 5, now: NOW, profiles: 60, events: 50, metrics: 2, coupons: 5, 'coupon-codes': 30 },
    undefined,
    kind,
  );
  let clock: InstantClock;
  const run = async (extra: { checkpoint?: { rows: number; ms: number } } = {}) => {
    const report = await h.run({ clock, sources: ['coupon_codes'], ...extra });
    const source = report.sources.find((s) => s.name === 'coupon_codes');
    expect([source?.status, source?.error]).toEqual(['SUCCESS', undefined]);
    return source!;
  };

  beforeAll(() => {
    project(h);
    clock = new InstantClock(NOW);
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

    await clock.sleep(HOUR);
    const second = await run();
    expect(second.markedDeleted).toBe(0);
    const again = await tableCodes(h);
    expect(again.live.sort()).toEqual(loaded.live.sort());
    expect(again.deleted).toEqual([]);
  });

  it('new, handed-out, used and deleted codes and a deleted coupon are reflected exactly', async () => {
    h.sim.advanceTime(2 * HOUR);
    await clock.sleep(2 * HOUR);
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

  it('a failure between coupons marks nothing of the coupons not read; the next run reads only those', async () => {
    h.sim.updateRecords({ 'coupon-codes': 2 });
    h.sim.clearLog();
    // The third coupon's request is refused (not retried): the two before it commit, each on its own.
    h.sim.addFault('html403@coupon-codes:at=3');
    const failed = await h.run({
      clock,
      sources: ['coupon_codes'],
      concurrency: 1,
      checkpoint: { rows: 1, ms: 0 },
    });
    h.sim.clearFaults();
    expect(failed.sources[0]?.status).toBe('ERROR');
    const pending = await queryDestination(
      h.destination,
      `SELECT parent_id FROM ${h.schema}.ingestion_parents WHERE table_name = 'klaviyo_coupon_codes' AND pending`,
    );
    expect(pending).toHaveLength(2);
    const marked = (await tableCodes(h)).deleted.length;

    h.sim.clearLog();
    await clock.sleep(1000);
    const resumed = await run();
    expect(resumed.markedDeleted).toBe(0);
    const read = h.sim
      .requestLog()
      .filter((r) => r.endpoint === 'coupon-codes')
      .map((r) => String(r.query.filter));
    const done = new Set(pending.map((r) => String(r.parent_id)));
    expect(read).toHaveLength(h.sim.data.objects.coupons.records.length - done.size);
    expect(read.filter((f) => [...done].some((id) => f.includes(`'${id}'`)))).toEqual([]);
    const after = await tableCodes(h);
    expect(new Set(after.live)).toEqual(simCodes(h));
    expect(after.deleted).toHaveLength(marked);
  });

  /** What the simulator reports per campaign message and UTC day in [VALUES_START, endMs): `id|campaign|recipients`. */
  const wantValues = (endMs: number): Set<string> => {
    const out = new Set<string>();
    const channel: Record<string, string> = { email: 'email', sms: 'sms', mobile_push: 'push-notification' };
    for (let day = VALUES_START; day < endMs; day += DAY) {
      const date = new Date(day).toISOString().slice(0, 10);
      for (const c of h.sim.data.campaigns.records) {
        if (c.sendTime === null || c.sendTime >= day + DAY) continue;
        const recipients = h.sim.data.campaignValues.value(campaignKey(c.id), c.sendTime, day, 'recipients');
        out.add(`${c.messageId}:${channel[c.channel]}:${date}|${c.id}|${recipients}`);
      }
    }
    return out;
  };
  const haveValues = async (): Promise<string[]> =>
    (
      await queryDestination(
        h.destination,
        `SELECT id, campaign_id, recipients FROM ${h.schema}.klaviyo_campaign_values_daily`,
      )
    ).map((r) => `${r.id}|${r.campaign_id}|${Number(r.recipients)}`);
  /** The one-day timeframes the run asked for, in order, as `start..end`. */
  const timeframes = () =>
    h.sim
      .requestLog()
      .filter((r) => r.endpoint === 'campaign-values-reports' && r.status === 200)
      .map((r) => r.seq);
  const runValues = async () => {
    h.sim.clearLog();
    const report = await h.run({ clock, sources: ['campaign_values_daily'] });
    const source = report.sources.find((s) => s.name === 'campaign_values_daily');
    expect([source?.status, source?.error]).toEqual(['SUCCESS', undefined]);
    return { source: source!, requests: timeframes().length };
  };

  it('campaign values: a row per campaign message and day, one request per day; a second run re-reads only the lookback', async () => {
    const first = await runValues();
    const end = parseTimestamp(String(first.source.endTime)) as number;
    // Three whole days and the day the window ends in, each its own request.
    expect(first.requests).toBe(Math.ceil((end - VALUES_START) / DAY));
    const want = wantValues(end);
    expect(want.size).toBeGreaterThan(5);
    const have = await haveValues();
    expect(have).toHaveLength(want.size);
    expect(new Set(have)).toEqual(want);

    await clock.sleep(60_000);
    const second = await runValues();
    // From the last end less 2 days, from its midnight: three days again, nothing added twice.
    expect(second.requests).toBe(3);
    expect(await haveValues()).toHaveLength(want.size);
    expect(new Set(await haveValues())).toEqual(wantValues(end));
  });

  it('campaign values: a day Klaviyo revised is replaced within the lookback, not added', async () => {
    const before = new Set(await haveValues());
    await clock.sleep(60_000);
    // Klaviyo revises yesterday and today.
    h.sim.data.campaignValues.revise(clock.now() - DAY, clock.now());
    const third = await runValues();
    const end = parseTimestamp(String(third.source.endTime)) as number;
    const after = await haveValues();
    expect(new Set(after)).toEqual(wantValues(end));
    expect(after).toHaveLength(before.size);
    const changed = after.filter((row) => !before.has(row));
    expect(changed.length).toBeGreaterThan(0);
    const yesterday = new Date(clock.now() - DAY).toISOString().slice(0, 10);
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    expect(changed.every((row) => row.includes(`:${yesterday}|`) || row.includes(`:${today}|`))).toBe(true);
  });

  it('campaign values: a conversion metric name the account does not have fails the load, naming the fix', async () => {
    const file = path.join(h.projectDir, 'config/klaviyo_campaign_values_daily_load.yml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/conversion_metric: .*/, 'conversion_metric: Nope Order'));
    try {
      const rows = (await haveValues()).length;
      const report = await h.run({ clock, sources: ['campaign_values_daily'] });
      const source = report.sources.find((s) => s.name === 'campaign_values_daily');
      expect(source?.status).toBe('ERROR');
      expect(source?.error).toContain("conversion_metric 'Nope Order' is not a metric of this account");
      expect(source?.error).toContain(h.sim.data.metrics.records[0]!.name);
      expect(await haveValues()).toHaveLength(rows);
    } finally {
      writeFileSync(file, text);
    }
  });

  it('campaign values: each request is a one-day timeframe with both ends inside the day', async () => {
    const bodies: { start: string; end: string }[] = [];
    const { campaignValuesDaily } = await import('../../src/sources/streams/campaign-values-daily.js');
    const params = {
      dataSource: 'campaign_values_daily',
      windowField: 'date',
      window: { startMs: VALUES_START, endMs: VALUES_START + 2 * DAY },
      revision: '2026-07-15',
      skipRelatedObjects: false,
      additionalFields: [],
      conversionMetricId: 'M1',
    };
    for (const day of [VALUES_START, VALUES_START + DAY]) {
      const body = campaignValuesDaily.report!.body(day, day + DAY, undefined, params) as {
        data: { attributes: { timeframe: { start: string; end: string } } };
      };
      bodies.push(body.data.attributes.timeframe);
    }
    expect(bodies).toEqual([
      { start: '2025-10-12T00:00:00.000Z', end: '2025-10-12T23:59:59.000Z' },
      { start: '2025-10-13T00:00:00.000Z', end: '2025-10-13T23:59:59.000Z' },
    ]);
  });
});
