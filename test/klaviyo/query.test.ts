import { describe, expect, it } from 'vitest';
import {
  and,
  any,
  datetime,
  equals,
  greaterOrEqual,
  greaterThan,
  has,
  lessOrEqual,
  lessThan,
} from '../../src/klaviyo/filter.js';
import { appendQuery, buildQuery } from '../../src/klaviyo/query.js';

describe('filter builder', () => {
  it('writes datetimes unquoted with Z, strings single-quoted, booleans unquoted', () => {
    const start = Date.UTC(2024, 0, 1);
    const end = Date.UTC(2024, 0, 8, 12, 30, 0, 250);
    const f = and(
      greaterOrEqual('datetime', new Date(start)),
      lessThan('datetime', datetime(end)),
      equals('metric_id', 'UxxK4u'),
      equals('archived', false),
    );
    expect(f).toBe(
      "and(greater-or-equal(datetime,2024-01-01T00:00:00Z),less-than(datetime,2024-01-08T12:30:00.250Z),equals(metric_id,'UxxK4u'),equals(archived,false))",
    );
  });

  it('escapes quotes and backslashes in strings', () => {
    expect(equals('name', "O'Brien \\ co")).toBe("equals(name,'O\\'Brien \\\\ co')");
  });

  it('has any, has, greater-than, less-or-equal, and of one', () => {
    expect(any('id', ['a', 'b'])).toBe("any(id,['a','b'])");
    expect(has('profile')).toBe('has(profile)');
    expect(greaterThan('updated', new Date(Date.UTC(2024, 4, 31)))).toBe(
      'greater-than(updated,2024-05-31T00:00:00Z)',
    );
    expect(lessOrEqual('timestamp', 978354000)).toBe('less-or-equal(timestamp,978354000)');
    expect(and(has('metric'))).toBe('has(metric)');
  });

  it('rejects field names that would break the syntax', () => {
    expect(() => equals('a,b)', 'x')).toThrow(/not a valid filter field/);
  });
});

describe('buildQuery', () => {
  it('encodes values, keeps brackets and commas readable, joins arrays', () => {
    const q = buildQuery({
      filter: and(greaterOrEqual('datetime', new Date(Date.UTC(2024, 0, 1))), equals('metric_id', 'abc')),
      sort: 'datetime',
      include: ['metric', 'attributions'],
      fields: { event: ['datetime', 'uuid'] },
      'page[size]': 1000,
      additionalFields: { profile: ['subscriptions'] },
    });
    expect(q).toBe(
      "filter=and(greater-or-equal(datetime,2024-01-01T00:00:00Z),equals(metric_id,'abc'))&sort=datetime&include=metric,attributions&fields[event]=datetime,uuid&page[size]=1000&additional-fields[profile]=subscriptions",
    );
  });

  it('encodes + in offsets as %2B and spaces as %20', () => {
    const q = buildQuery({ filter: 'greater-than(updated,2024-05-31T00:00:00+00:00)', extra: 'a b&c=d' });
    expect(q).toBe('filter=greater-than(updated,2024-05-31T00:00:00%2B00:00)&extra=a%20b%26c%3Dd');
    expect(new URLSearchParams(q).get('filter')).toBe('greater-than(updated,2024-05-31T00:00:00+00:00)');
  });

  it('accepts the flat record the sources build and skips empty values', () => {
    expect(buildQuery({ 'fields[event]': 'datetime', sort: undefined, include: [] })).toBe(
      'fields[event]=datetime',
    );
    expect(buildQuery(undefined)).toBe('');
  });

  it('appends to a path that already has a query', () => {
    expect(appendQuery('/api/events?x=1', 'y=2')).toBe('/api/events?x=1&y=2');
    expect(appendQuery('/api/events', '')).toBe('/api/events');
  });
});
