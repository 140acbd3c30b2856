import { beforeAll, describe, expect, it } from 'vitest';
import { formatFilterTime, formatTemplateTime, parseTimestamp } from '../../src/util/timestamps.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const INC_START = Date.UTC(2025, 8, 1);
const HOUR = 3600_000;

/** The last second before `before` holding two or more events: a tie at the boundary. */
function lastTiedSecond(h: Harness, before: number): number {
  const seconds = new Map<number, number>();
  h.sim.data.ids('events', (get) => {
    const ms = get('datetime');
    if (typeof ms === 'number' && ms >= INC_START && ms < before) {
      const second = Math.floor(ms / 1000) * 1000;
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
    }
    return false;
  });
  const tied = [...seconds].filter(([, n]) => n >= 2).map(([s]) => s);
  if (tied.length === 0) throw new Error('the simulator generated no tied seconds');
  return Math.max(...tied);
}

/** (id, field) pairs the simulator holds for a window, as `id|ms`. */
function pairs(
  h: Harness,
  source: 'profiles' | 'events',
  field: string,
  gte: number,
  lt: number,
): Set<string> {
  const out = new Set<string>();
  const ids = h.sim.data.ids(source, (get) => {
    const v = get(field);
    return typeof v === 'number' && v >= gte && v < lt;
  });
  const values: number[] = [];
  h.sim.data.ids(source, (get) => {
    const v = get(field);
    if (typeof v === 'number' && v >= gte && v < lt) values.push(v);
    return false;
  });
  ids.forEach((id, i) => {
    out.add(`${id}|${Math.floor((values[i] as number) / 1000)}`);
  });
  return out;
}

async function tablePairs(h: Harness, table: string, field: string): Promise<string[]> {
  const rows = await queryDestination(
    h.destination,
    `SELECT id, CAST(floor(extract(epoch FROM CAST(${field} AS TIMESTAMPTZ))) AS BIGINT) AS s FROM ${h.schema}.${table}`,
  );
  return rows.map((r) => `${r.id}|${r.s}`);
}

describe.each(DESTINATION_KINDS)('a second inc run after the account changed (%s)', (kind) => {
  const h = useHarness({ seed: 5, now: NOW, profiles: 300, events: 6000 }, undefined, kind);
  let clock: ReturnType<typeof clockFrom>;
  let tieSecond: number;
  let firstEnd: number;
  const run = (extra: { end?: string } = {}) => h.run({ clock, ...extra });

  beforeAll(async () => {
    clock = clockFrom(NOW);
    // First run ends right after a second that holds several events, so the next run's window starts on a tie.
    tieSecond = lastTiedSecond(h, NOW - 2 * HOUR);
    firstEnd = tieSecond + 1000;
    const first = await run({ end: formatTemplateTime(firstEnd) });
    expect(first.ok).toBe(true);
  });

  it('fetches only the new window, loses nothing and duplicates nothing, ties at the boundary included', async () => {
    const [max] = await queryDestination(
      h.destination,
      `SELECT max(datetime) AS m, count(*) AS n FROM ${h.schema}.klaviyo_events`,
    );
    expect(formatTemplateTime(Date.parse(String(max?.m)))).toBe(formatTemplateTime(tieSecond));
    const profilesBefore = pairs(h, 'profiles', 'updated', INC_START, firstEnd);

    h.sim.advanceTime(2 * HOUR);
    h.sim.addRecords({ events: 300, profiles: 25, campaigns: 3, templates: 2, lists: 1 });
    h.sim.updateRecords({ profiles: 40, campaigns: 4, templates: 2, lists: 2 });
    clock.advance(2 * HOUR);
    h.sim.clearLog();

    const second = await run();
    expect(second.ok).toBe(true);

    // Only the new window was asked for: events from the tied boundary second on.
    const eventRequests = h.sim.requestLog().filter((r) => r.endpoint === 'events');
    expect(eventRequests.length).toBeGreaterThan(0);
    const events = second.sources.find((s) => s.name === 'events');
    const secondEndText = String(events?.endTime);
    const secondEnd = parseTimestamp(secondEndText) as number;
    expect(eventRequests[0]?.query.filter).toBe(
      `and(greater-or-equal(datetime,${formatFilterTime(tieSecond)}),` +
        `less-than(datetime,${formatFilterTime(secondEnd)}))`,
    );
    expect(eventRequests.every((r) => r.query.include === undefined)).toBe(true);
    expect(events?.duplicatesSkipped).toBeGreaterThanOrEqual(2);

    // Events: exactly the simulator's records of [default start, second end), each once.
    const expectedEvents = pairs(h, 'events', 'datetime', INC_START, secondEnd);
    const loadedEvents = await tablePairs(h, 'klaviyo_events', 'datetime');
    expect(loadedEvents.length).toBe(new Set(loadedEvents).size);
    expect(new Set(loadedEvents)).toEqual(expectedEvents);

    // Profiles (append keeps history): every (id, updated) seen by either run's window, each once. Each
    // source's window ends when it starts (the clock runs on), so profiles' own end counts.
    const profilesEnd = parseTimestamp(String(second.sources.find((s) => s.name === 'profiles')?.endTime));
    const profilesAfter = pairs(h, 'profiles', 'updated', INC_START, profilesEnd as number);
    const loadedProfiles = await tablePairs(h, 'klaviyo_profiles', 'updated');
    expect(loadedProfiles.length).toBe(new Set(loadedProfiles).size);
    expect(new Set(loadedProfiles)).toEqual(new Set([...profilesBefore, ...profilesAfter]));
  });
});
