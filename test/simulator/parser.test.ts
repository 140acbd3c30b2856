import { expect, test } from 'vitest';
import { ApiError, parseFilter, parseFilterDatetime, SimulatorData } from '../../src/simulator/index.js';

test('filter datetimes: every accepted format; naive = UTC; lower-case and bad dates rejected', () => {
  const base = Date.UTC(2025, 8, 3, 10, 11, 12);
  expect(parseFilterDatetime('2025-09-03T10:11:12')).toBe(base);
  expect(parseFilterDatetime('2025-09-03T10:11:12Z')).toBe(base);
  expect(parseFilterDatetime('2025-09-03 10:11:12Z')).toBe(base);
  expect(parseFilterDatetime('2025-09-03T10:11:12+00:00')).toBe(base);
  expect(parseFilterDatetime('2025-09-03T12:11:12+0200')).toBe(base);
  expect(parseFilterDatetime('2025-09-03T10:11:12.123456Z')).toBe(base + 123);
  expect(parseFilterDatetime('2025-09-03T10:11:12.7')).toBe(base + 700);
  expect(parseFilterDatetime('2025-09-03')).toBe(Date.UTC(2025, 8, 3));
  for (const bad of [
    '2025-09-03t10:11:12z',
    '2025-02-30',
    '2025-09-03T10:11:12.1234567Z',
    '2025-09-03T10:11:12 00:00',
    "'2025-09-03'",
  ]) {
    expect(parseFilterDatetime(bad), bad).toBeNull();
  }
});

test('filter grammar: and(), comma lists, quotes, escapes, lists, has', () => {
  const conds = parseFilter(
    `and(equals(name,"a \\"b\\""),any(id,['x','y'])),greater-than(updated,2025-01-01),has(profile),equals(archived,false)`,
  );
  expect(conds.map((c) => [c.op, c.field])).toEqual([
    ['equals', 'name'],
    ['any', 'id'],
    ['greater-than', 'updated'],
    ['has', 'profile'],
    ['equals', 'archived'],
  ]);
  expect(conds[0]?.value).toEqual({ kind: 'string', value: 'a "b"' });
  for (const bad of [
    '',
    'equals(a,1',
    'equals(a,1))',
    'bogus(a,1)',
    "equals(a,'x)",
    'equals(email,me@test.com)',
  ]) {
    expect(() => parseFilter(bad), bad).toThrow(ApiError);
  }
});

test('data: deterministic from the seed; scales without holding records', () => {
  const opts = { seed: 5, now: Date.UTC(2026, 0, 1), profiles: 2000, events: 300_000 };
  const started = Date.now();
  const a = new SimulatorData(opts);
  expect(Date.now() - started).toBeLessThan(5000);
  const b = new SimulatorData(opts);
  expect(a.events.id(123_456)).toBe(b.events.id(123_456));
  expect(a.events.times.get(123_456)).toBe(b.events.times.get(123_456));
  expect(a.count('events')).toBe(300_000);
  let ties = 0;
  let subSecond = 0;
  let sorted = true;
  for (let i = 1; i < 300_000; i++) {
    const t = a.events.times.get(i);
    if (t === a.events.times.get(i - 1)) ties++;
    if (t % 1000 !== 0) subSecond++;
    if (t < a.events.times.get(i - 1)) sorted = false;
  }
  expect(sorted).toBe(true);
  expect(ties).toBeGreaterThan(1000);
  expect(subSecond).toBeGreaterThan(1000);
});
