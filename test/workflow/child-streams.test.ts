/**
 * Child collections end to end, on every destination: list and segment memberships (append on
 * joined_group_at with a lookback), flow actions and flow messages (merge on updated), campaign messages
 * (merge, read whole). A first run, a second run that loads nothing twice, mutations (late and new
 * memberships, profiles leaving a list or segment and coming back, updated flow actions and campaigns)
 * reflected exactly, and a failure mid-parents that the next run resumes by parent.
 */

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatFilterTime, formatTemplateTime, parseTimestamp } from '../../src/util/timestamps.js';
import { openDestination } from '../../src/warehouse/open-destination.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';
import { edit } from '../support/project.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const DEFAULT_START = Date.UTC(2025, 8, 1);
const HOUR = 3_600_000;

const STREAMS = [
  { name: 'list_memberships', field: 'joined_group_at', mode: 'append', lookback: '2d' },
  { name: 'segment_memberships', field: 'joined_group_at', mode: 'append', lookback: '2d' },
  { name: 'flow_actions', field: 'updated', mode: 'merge', lookback: '' },
  { name: 'flow_messages', field: 'updated', mode: 'merge', lookback: '' },
  { name: 'campaign_messages', field: '', mode: 'merge', lookback: '' },
  { name: 'metric_aggregates_daily', field: 'date', mode: 'merge', lookback: '1d' },
  { name: 'flow_series_daily', field: 'date', mode: 'merge', lookback: '2d' },
] as const;

const table = (name: string) => `klaviyo_${name}`;
const MEMBERSHIPS = ['list_memberships', 'segment_memberships'];

/** The project's inc datasources become just these five, each with its load config. */
function childProject(h: Harness): void {
  const entries = STREAMS.map((s) =>
    [
      `  - name: ${s.name}`,
      `    table_name: ${table(s.name)}`,
      `    config_file: klaviyo_${s.name}_load.yml`,
      `    incremental_field: ${s.field}`,
      `    incremental_field_connector: ${s.field}`,
      `    default_start_time: "${formatTemplateTime(DEFAULT_START)}"`,
      '    workflow_name: klaviyo_ingest.dig',
      `    mode: ${s.mode}`,
      ...(s.lookback ? [`    lookback: ${s.lookback}`] : []),
    ].join('\n'),
  );
  edit(h.projectDir, 'config/klaviyo_datasources.yml', (text) =>
    text.replace(/inc_datasources:[\s\S]*$/, `inc_datasources:\n${entries.join('\n\n')}\n`),
  );
  for (const s of STREAMS) {
    const incremental = s.field
      ? [
          '  incremental: true',
          '  start_time: ${td.last_results.start_time}',
          '  end_time: ${td.last_results.end_time}',
          '  incremental_field: ${datasource.incremental_field_connector}',
        ]
      : [];
    const text = [
      'in:',
      '  type: klaviyo',
      '  data_source: ${datasource.name}',
      '  td_authentication_id: 360030',
      ...incremental,
      ...(s.name === 'flow_series_daily'
        ? [`  conversion_metric_id: ${h.sim.data.metrics.records[0]!.id}`]
        : []),
      'out:',
      '  mode: ${datasource.mode}',
      '',
    ].join('\n');
    writeFileSync(path.join(h.projectDir, `config/klaviyo_${s.name}_load.yml`), text);
  }
}

const second = (ms: number) => Math.floor(ms / 1000);

/** What the simulator holds for each table after a run that ended at `endMs`, as `key|second` strings. */
function expected(h: Harness, endMs: number): Record<string, Set<string>> {
  const inWindow = (ms: number) => ms >= DEFAULT_START && ms < endMs;
  const members = (group: 'lists' | 'segments') =>
    new Set(
      h.sim.data.children
        .memberships(group)
        // a deleted list's memberships are no longer live
        .filter((m) => h.sim.data[group].records.some((parent) => parent.id === m.parentId))
        .filter((m) => inWindow(m.joinedAt))
        .map((m) => `${m.parentId}:${m.profileId}|${m.parentId}|${second(m.joinedAt)}`),
    );
  const updated = (records: { id: string; updated: number }[], parentOf: (r: never) => string) =>
    new Set(
      records
        .filter((r) => inWindow(r.updated))
        .map((r) => `${r.id}|${parentOf(r as never)}|${second(r.updated)}`),
    );
  const campaigns = h.sim.data.campaigns.records;
  return {
    list_memberships: members('lists'),
    segment_memberships: members('segments'),
    flow_actions: updated(h.sim.data.children.flowActions(), (a: { flowId: string }) => a.flowId),
    flow_messages: updated(h.sim.data.children.flowMessages(), (m: { actionId: string }) => m.actionId),
    campaign_messages: new Set(campaigns.map((c) => `${c.messageId}|${c.id}|${second(c.updated)}`)),
    metric_aggregates_daily: dailyCounts(h, endMs),
    flow_series_daily: flowSeries(h, endMs),
  };
}

/** Recipients per flow message and day in [DEFAULT_START, endMs), as the simulator reports them. */
function flowSeries(h: Harness, endMs: number): Set<string> {
  const out = new Set<string>();
  const { children, flowSeries: series } = h.sim.data;
  children.flowMessages().forEach((m, index) => {
    for (let day = DEFAULT_START; day < endMs; day += DAY) {
      const date = new Date(day).toISOString().slice(0, 10);
      const recipients = series.value(index, m.created, day, 'recipients');
      out.add(`${m.id}:${m.channel}:${date}|${children.flowOf(m)}|${second(day)}|${recipients}`);
    }
  });
  return out;
}

const DAY = 86_400_000;

/** Events per metric and UTC day in [DEFAULT_START, endMs), every day present (zero too), as `id|metric|day|count`. */
function dailyCounts(h: Harness, endMs: number): Set<string> {
  const counts = new Map<string, number>();
  const metricIds = h.sim.data.metrics.records.map((m) => m.id);
  for (const metric of metricIds)
    for (let day = DEFAULT_START; day < endMs; day += DAY) counts.set(`${metric}|${day}`, 0);
  h.sim.data.ids('events', (get) => {
    const ms = get('datetime') as number;
    if (ms >= DEFAULT_START && ms < endMs) {
      const key = `${get('metric_id')}|${Math.floor(ms / DAY) * DAY}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return false;
  });
  return new Set(
    [...counts].map(([key, n]) => {
      const [metric, day] = key.split('|');
      const date = new Date(Number(day)).toISOString().slice(0, 10);
      return `${metric}:${date}|${metric}|${second(Number(day))}|${n}`;
    }),
  );
}

const PARENT_COLUMN: Record<string, string> = {
  list_memberships: 'list_id',
  segment_memberships: 'segment_id',
  flow_actions: 'flow_id',
  flow_messages: 'flow_action_id',
  campaign_messages: 'campaign_id',
  metric_aggregates_daily: 'metric_id',
  flow_series_daily: 'flow_id',
};

/** The value column compared for the reports. */
const VALUE_COLUMN: Record<string, string> = {
  metric_aggregates_daily: 'count',
  flow_series_daily: 'recipients',
};

/** Each table's rows as `id|parent|second of the window value` (rows read twice would repeat). */
async function loaded(h: Harness): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  // One destination for every read (a Parquet dataset's views are made at each open).
  const destination = await openDestination(h.destination);
  try {
    for (const s of STREAMS) {
      const field = s.field || 'updated_at';
      const count = VALUE_COLUMN[s.name] ? `, ${VALUE_COLUMN[s.name]} AS value` : '';
      // Memberships: the live rows (a profile that left has its rows marked `_deleted_at`).
      const live = s.name.endsWith('memberships') ? ' WHERE _deleted_at IS NULL' : '';
      const rows = await destination.query(
        `SELECT id, ${PARENT_COLUMN[s.name]} AS parent, CAST(floor(extract(epoch FROM CAST(${field} AS TIMESTAMPTZ))) AS BIGINT) AS s${count} FROM ${h.schema}.${table(s.name)}${live}`,
      );
      out[s.name] = rows.map((r) => `${r.id}|${r.parent}|${r.s}${count ? `|${r.value}` : ''}`);
    }
  } finally {
    await destination.close();
  }
  return out;
}

/** The membership rows marked `_deleted_at`, as `id|second of joined_group_at`. */
async function deletedMemberships(h: Harness, name: string): Promise<Set<string>> {
  const rows = await queryDestination(
    h.destination,
    `SELECT id, CAST(floor(extract(epoch FROM CAST(joined_group_at AS TIMESTAMPTZ))) AS BIGINT) AS s FROM ${h.schema}.${table(name)} WHERE _deleted_at IS NOT NULL`,
  );
  return new Set(rows.map((r) => `${r.id}|${r.s}`));
}

async function expectExact(h: Harness, endMs: number, only?: readonly string[]): Promise<void> {
  const want = expected(h, endMs);
  const have = await loaded(h);
  for (const s of STREAMS.filter((x) => only === undefined || only.includes(x.name))) {
    expect({ table: s.name, duplicates: have[s.name]!.length - new Set(have[s.name]).size }).toEqual({
      table: s.name,
      duplicates: 0,
    });
    expect({ table: s.name, rows: new Set(have[s.name]) }).toEqual({ table: s.name, rows: want[s.name] });
    expect(want[s.name]!.size).toBeGreaterThan(0);
  }
}

/** Parent ids the child requests of `endpoint` went to, from the simulator's log. */
function requestedParents(h: Harness, endpoint: string): Set<string> {
  return new Set(
    h.sim
      .requestLog()
      .filter((r) => r.endpoint === endpoint && r.status === 200)
      .map((r) => decodeURIComponent(r.path.split('/')[3] as string)),
  );
}

describe.each(DESTINATION_KINDS)('child collections, read per parent (%s)', (kind) => {
  const h = useHarness(
    {
      seed: 11,
      now: NOW,
      profiles: 150,
      events: 600,
      metrics: 3,
      lists: 8,
      segments: 6,
      flows: 3,
      campaigns: 12,
    },
    undefined,
    kind,
  );
  let clock: ReturnType<typeof clockFrom>;
  const run = () => h.run({ clock });
  const endOf = (report: Awaited<ReturnType<typeof run>>, name: string) =>
    parseTimestamp(String(report.sources.find((s) => s.name === name)?.endTime)) as number;

  beforeAll(() => {
    childProject(h);
    clock = clockFrom(NOW);
  });

  it('a first run loads every parent’s children with the parent id; a second run loads nothing twice', async () => {
    const dry = await h.run({ clock, dryRun: true });
    const shown = Object.fromEntries(dry.sources.map((s) => [s.name, s.requests?.[0]]));
    expect(shown.list_memberships).toMatch(/\/api\/lists\/\{id\}\/profiles\?.*sort=joined_group_at/);
    // and each list's member ids, read whole
    expect(dry.sources.find((s) => s.name === 'list_memberships')?.requests?.[1]).toBe(
      `${h.sim.baseUrl}/api/lists/{id}/relationships/profiles?page[size]=100`,
    );
    expect(shown.metric_aggregates_daily).toBe(`POST ${h.sim.baseUrl}/api/metric-aggregates`);
    expect(shown.flow_series_daily).toBe(`POST ${h.sim.baseUrl}/api/flow-series-reports`);
    const first = await run();
    expect(first.sources.map((s) => [s.name, s.status, s.error ?? null])).toEqual(
      STREAMS.map((s) => [s.name, 'SUCCESS', null]),
    );
    await expectExact(h, endOf(first, 'list_memberships'));
    // Every list was asked for its profiles, each request for one list.
    expect(requestedParents(h, 'list-profiles')).toEqual(new Set(h.sim.data.lists.records.map((l) => l.id)));
    // And for its members' ids: one request of 100 ids per list here (every list has fewer members).
    const idRequests = h.sim.requestLog().filter((r) => r.endpoint === 'list-profile-ids');
    expect(idRequests.map((r) => r.query['page[size]'])).toEqual(h.sim.data.lists.records.map(() => '100'));
    expect(requestedParents(h, 'list-profile-ids')).toEqual(
      new Set(h.sim.data.lists.records.map((l) => l.id)),
    );
    expect(first.sources.find((s) => s.name === 'list_memberships')?.markedDeleted).toBe(0);

    h.sim.clearLog();
    clock.advance(60_000);
    const again = await run();
    expect(again.ok).toBe(true);
    for (const s of again.sources.filter((x) => x.name.endsWith('memberships'))) expect(s.records).toBe(0);
    await expectExact(h, endOf(first, 'list_memberships'));
    // A parent's window starts at its last end less the lookback, not at default_start_time.
    const filters = h.sim
      .requestLog()
      .filter((r) => r.endpoint === 'list-profiles')
      .map((r) => String(r.query.filter));
    const lastEnd = endOf(first, 'list_memberships');
    const start = `greater-or-equal(joined_group_at,${formatFilterTime(lastEnd - 2 * 86_400_000)})`;
    expect(filters.length).toBe(h.sim.data.lists.records.length);
    expect(filters.filter((f) => !f.includes(start))).toEqual([]);
  });

  it('reflects late and new memberships, updated flow actions and campaigns exactly', async () => {
    const before = await loaded(h);
    h.sim.advanceTime(2 * HOUR);
    clock.advance(2 * HOUR);
    // Late: joined an hour before the last run ended (only the lookback finds them); new: joined now.
    h.sim.data.addMemberships({ lists: 4, segments: 2, joinedAt: clock.now() - 3 * HOUR });
    h.sim.data.addMemberships({ lists: 2, segments: 2 });
    h.sim.data.updateFlowActions(3);
    h.sim.data.updateRecords({ campaigns: 3 });
    // New events revise the last day the previous runs read in part: its row is replaced, not added.
    h.sim.data.addRecords({ events: 40 });
    // Klaviyo revises the flow numbers of the last two days: the 2d lookback reads them again.
    h.sim.data.flowSeries.revise(clock.now() - 86_400_000, clock.now());
    clock.advance(1000);
    const third = await run();
    expect(third.ok).toBe(true);
    await expectExact(h, endOf(third, 'list_memberships'));
    const after = await loaded(h);
    expect(after.list_memberships!.length - before.list_memberships!.length).toBe(6);
    expect(after.segment_memberships!.length - before.segment_memberships!.length).toBe(4);
    // merge: one row per flow action and campaign message, with the new `updated`
    expect(after.flow_actions!.length).toBe(new Set(after.flow_actions!.map((r) => r.split('|')[0])).size);
    expect(after.campaign_messages!.length).toBe(h.sim.data.campaigns.records.length);
    const days = (rows: string[]) => new Set(rows.map((r) => r.split('|')[0]));
    const newDays = days(after.metric_aggregates_daily!).size - days(before.metric_aggregates_daily!).size;
    expect(after.metric_aggregates_daily!.length - before.metric_aggregates_daily!.length).toBe(newDays);
    expect(newDays).toBeLessThanOrEqual(3);
  });

  it('marks the memberships of profiles that left with _deleted_at; a re-join is live again', async () => {
    h.sim.advanceTime(HOUR);
    clock.advance(HOUR);
    // Only the membership sources run here (the others are covered above).
    const memberships = () => h.run({ clock, sources: MEMBERSHIPS });
    const removed = h.sim.data.removeMemberships({ lists: 4, segments: 3 });
    const inWindow = removed.filter((m) => m.joinedAt >= DEFAULT_START);
    const key = (m: { parentId: string; profileId: string; joinedAt: number }) =>
      `${m.parentId}:${m.profileId}|${second(m.joinedAt)}`;
    // And a list is deleted: its memberships go with it.
    const [deletedList] = h.sim.data.deleteRecords({ lists: 1 }).lists!;
    const ofDeletedList = h.sim.data.children
      .memberships('lists')
      .filter((m) => m.parentId === deletedList && m.joinedAt >= DEFAULT_START)
      .map(key);
    expect(ofDeletedList.length).toBeGreaterThan(0);
    const ofGroup = (group: string) =>
      new Set([
        ...inWindow.filter((m) => m.group === group).map(key),
        ...(group === 'lists' ? ofDeletedList : []),
      ]);
    expect(ofGroup('lists').size).toBeGreaterThan(0);
    expect(ofGroup('segments').size).toBeGreaterThan(0);
    clock.advance(1000);
    const marked = await memberships();
    expect(marked.ok).toBe(true);
    await expectExact(h, endOf(marked, 'list_memberships'), MEMBERSHIPS);
    expect(await deletedMemberships(h, 'list_memberships')).toEqual(ofGroup('lists'));
    expect(await deletedMemberships(h, 'segment_memberships')).toEqual(ofGroup('segments'));
    expect(marked.sources.find((s) => s.name === 'list_memberships')?.markedDeleted).toBe(
      ofGroup('lists').size,
    );

    // Back: one list member re-joins now (a new row, live; the old one keeps its mark), one segment
    // member's membership comes back as it was (the same row: its mark is cleared).
    const rejoined = inWindow.find((m) => m.group === 'lists' && m.parentId !== deletedList)!;
    const restored = inWindow.find((m) => m.group === 'segments')!;
    h.sim.advanceTime(HOUR);
    clock.advance(HOUR);
    h.sim.data.restoreMemberships([rejoined], 'now');
    h.sim.data.restoreMemberships([restored], 'original');
    clock.advance(1000);
    const back = await memberships();
    expect(back.ok).toBe(true);
    await expectExact(h, endOf(back, 'list_memberships'), MEMBERSHIPS);
    expect(await deletedMemberships(h, 'list_memberships')).toEqual(ofGroup('lists'));
    const segments = ofGroup('segments');
    segments.delete(key(restored));
    expect(await deletedMemberships(h, 'segment_memberships')).toEqual(segments);
    const rows = await queryDestination(
      h.destination,
      `SELECT _deleted_at IS NULL AS live FROM ${h.schema}.klaviyo_list_memberships WHERE id = '${rejoined.parentId}:${rejoined.profileId}' ORDER BY joined_group_at`,
    );
    expect(rows.map((r) => r.live)).toEqual([false, true]);
  });

  it('resumes by parent after a failure mid-parents: committed parents are not read again', async () => {
    h.sim.advanceTime(HOUR);
    clock.advance(HOUR);
    h.sim.data.addMemberships({ lists: 5 });
    h.sim.clearLog();
    // The 5th list's request is refused (a Cloudflare block is not retried): that run stops there.
    h.sim.addFault('html403@list-profiles:at=5');
    // One parent at a time, each committed on its own (a checkpoint after every parent), so the four
    // before it commit and none after it starts.
    // Only list memberships run (a commit per parent of every stream would only cost time).
    const lists = ['list_memberships'];
    const failed = await h.run({ clock, concurrency: 1, checkpoint: { rows: 1, ms: 0 }, sources: lists });
    h.sim.clearFaults();
    const failedList = failed.sources.find((s) => s.name === 'list_memberships');
    expect(failedList?.status).toBe('ERROR');
    const pending = await queryDestination(
      h.destination,
      `SELECT parent_id FROM ${h.schema}.ingestion_parents WHERE table_name = 'klaviyo_list_memberships' AND pending`,
    );
    const done = new Set(pending.map((r) => String(r.parent_id)));
    expect(done.size).toBe(4);

    h.sim.clearLog();
    clock.advance(1000);
    const resumed = await h.run({ clock, sources: lists });
    expect(resumed.ok).toBe(true);
    const reread = requestedParents(h, 'list-profiles');
    // Only the parents the failed run did not complete were read, all of them.
    expect(reread).toEqual(new Set(h.sim.data.lists.records.map((l) => l.id).filter((id) => !done.has(id))));
    await expectExact(h, endOf(resumed, 'list_memberships'), lists);
    const left = await queryDestination(
      h.destination,
      `SELECT count(*) AS n FROM ${h.schema}.ingestion_parents WHERE pending`,
    );
    expect(Number(left[0]?.n)).toBe(0);
  });
});
