import { describe, expect, it } from 'vitest';
import { getSource } from '../../src/sources/registry.js';
import type { Resource, SourceParams } from '../../src/sources/types.js';
import { IngestError } from '../../src/util/errors.js';

const START = Date.UTC(2025, 8, 3, 10, 11, 12);
const END = Date.UTC(2025, 9, 1, 0, 0, 0);

function params(overrides: Partial<SourceParams>): SourceParams {
  return {
    dataSource: 'events',
    windowField: null,
    window: { startMs: START, endMs: END },
    revision: '2026-07-15',
    skipRelatedObjects: true,
    additionalFields: [],
    ...overrides,
  };
}

function record(field: string, value: string): Resource {
  return { type: 'x', id: '1', attributes: { [field]: value } };
}

describe('request plans', () => {
  it('events: datetime window with >= and <, ascending, no include, largest page', () => {
    const [stream, ...rest] = getSource('events').plan(params({}));
    expect(rest).toHaveLength(0);
    expect(stream?.query).toEqual({
      filter: 'and(greater-or-equal(datetime,2025-09-03T10:11:12Z),less-than(datetime,2025-10-01T00:00:00Z))',
      sort: 'datetime',
      'page[size]': '1000',
    });
    expect(stream?.path).toBe('/api/events');
  });

  it('events on a revision before 2026-01-15 send no page[size]; skip_related_objects: false includes metric and profile', () => {
    const [stream] = getSource('events').plan(params({ revision: '2025-10-15', skipRelatedObjects: false }));
    expect(stream?.query['page[size]']).toBeUndefined();
    expect(stream?.query.include).toBe('metric,profile');
  });

  it('profiles: only greater-than/less-than, widened by a second and cut exactly on our side', () => {
    const [stream] = getSource('profiles').plan(params({ dataSource: 'profiles', windowField: 'updated' }));
    expect(stream?.query.filter).toBe(
      'and(greater-than(updated,2025-09-03T10:11:11Z),less-than(updated,2025-10-01T00:00:00Z))',
    );
    expect(stream?.query.sort).toBe('updated');
    expect(stream?.inWindow(stream.windowValueMs(record('updated', '2025-09-03T10:11:11.500+00:00')))).toBe(
      false,
    );
    expect(stream?.inWindow(stream.windowValueMs(record('updated', '2025-09-03T10:11:12+00:00')))).toBe(true);
    expect(stream?.inWindow(stream.windowValueMs(record('updated', '2025-10-01T00:00:00+00:00')))).toBe(
      false,
    );
  });

  it('lists: greater-than only, no upper bound in the API, so the end is cut and paging stops past it', () => {
    const [stream] = getSource('lists').plan(params({ dataSource: 'lists', windowField: 'updated' }));
    expect(stream?.query.filter).toBe('greater-than(updated,2025-09-03T10:11:11Z)');
    expect(stream?.pastEnd(stream.windowValueMs(record('updated', '2025-10-01T00:00:00+00:00')))).toBe(true);
    expect(stream?.pastEnd(stream.windowValueMs(record('updated', '2025-09-30T23:59:59+00:00')))).toBe(false);
  });

  it('lists on a revision before 2024-05-15 cannot sort: no sort parameter, the window is not treated as ordered', () => {
    const [stream] = getSource('lists').plan(
      params({ dataSource: 'lists', windowField: 'updated', revision: '2024-02-15' }),
    );
    expect(stream?.query.sort).toBeUndefined();
    expect(stream?.ascending).toBe(false);
  });

  it('campaigns: connector field updated filters updated_at, on every channel, archived and not', () => {
    const streams = getSource('campaigns').plan(params({ dataSource: 'campaigns', windowField: 'updated' }));
    expect(streams.map((s) => s.label)).toEqual([
      'campaigns email archived=false',
      'campaigns email archived=true',
      'campaigns sms archived=false',
      'campaigns sms archived=true',
      'campaigns mobile_push archived=false',
      'campaigns mobile_push archived=true',
    ]);
    expect(streams[0]?.query.filter).toBe(
      "and(equals(messages.channel,'email'),equals(archived,false),greater-or-equal(updated_at,2025-09-03T10:11:12Z),less-than(updated_at,2025-10-01T00:00:00Z))",
    );
    expect(streams[0]?.query.sort).toBe('updated_at');
  });

  it("campaigns before 2023-07-15 (the templates' revision) have no channel filter: one query per archived state", () => {
    const streams = getSource('campaigns').plan(
      params({ dataSource: 'campaigns', windowField: 'updated', revision: '2023-02-22' }),
    );
    expect(streams.map((s) => s.label)).toEqual(['campaigns archived=false', 'campaigns archived=true']);
    expect(streams[0]?.query.filter).toBe(
      'and(equals(archived,false),greater-or-equal(updated_at,2025-09-03T10:11:12Z),less-than(updated_at,2025-10-01T00:00:00Z))',
    );
  });

  it('campaigns given the table field updated_at fail with "Unknown incremental field"', () => {
    expect(() =>
      getSource('campaigns').plan(params({ dataSource: 'campaigns', windowField: 'updated_at' })),
    ).toThrow(/Unknown incremental field 'updated_at' for data_source 'campaigns'/);
  });

  it('metrics: a full scan with no filter, no sort, no page size', () => {
    const [stream] = getSource('metrics').plan(
      params({ dataSource: 'metrics', window: { startMs: null, endMs: null } }),
    );
    expect(stream?.query).toEqual({});
  });

  it('an unknown data_source is a config error', () => {
    expect(() => getSource('coupon')).toThrow(IngestError);
  });
});

describe('flattening', () => {
  it('events: attributes as columns, relationships as <name>_id, included metric/profile columns', () => {
    const events = getSource('events');
    const record: Resource = {
      type: 'event',
      id: 'e1',
      attributes: {
        datetime: '2025-09-03T10:11:12+00:00',
        timestamp: 1756894272,
        event_properties: { $value: 9.5 },
      },
      relationships: {
        metric: { data: { type: 'metric', id: 'm1' } },
        profile: { data: { type: 'profile', id: 'p1' } },
      },
    };
    expect(events.flatten(record, new Map())).toEqual({
      id: 'e1',
      datetime: '2025-09-03T10:11:12+00:00',
      timestamp: 1756894272,
      event_properties: { $value: 9.5 },
      metric_id: 'm1',
      profile_id: 'p1',
    });
    const included = new Map<string, Resource>([
      ['metric:m1', { type: 'metric', id: 'm1', attributes: { name: 'Placed Order' } }],
      ['profile:p1', { type: 'profile', id: 'p1', attributes: { email: 'a@b.c', first_name: 'Ann' } }],
    ]);
    expect(events.flatten(record, included)).toMatchObject({
      metric_name: 'Placed Order',
      profile_email: 'a@b.c',
      profile_first_name: 'Ann',
      profile_last_name: null,
    });
  });

  it('an attribute named time is kept as time_ (the runner owns time)', () => {
    const row = getSource('metrics').flatten(
      { type: 'metric', id: 'm', attributes: { time: 'x' } },
      new Map(),
    );
    expect(row).toEqual({ id: 'm', time_: 'x' });
  });
});
