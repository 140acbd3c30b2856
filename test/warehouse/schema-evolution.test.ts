import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../../src/warehouse/destination.js';
import { foldIdentifier } from '../../src/warehouse/identifiers.js';
import { inferType, planTableChanges, widenType } from '../../src/warehouse/schema-evolution.js';
import { StageSchema } from '../../src/warehouse/stage-schema.js';

describe('inferType', () => {
  it.each<[string, unknown, ColumnType | null]>([
    ['string', 'abc', 'VARCHAR'],
    ['timestamp text', '2025-09-03T10:11:12+00:00', 'VARCHAR'],
    ['empty string', '', 'VARCHAR'],
    ['integer', 42, 'BIGINT'],
    ['negative integer', -7, 'BIGINT'],
    ['integral double', 3.0, 'BIGINT'],
    ['int64 min as number', -(2 ** 63), 'BIGINT'],
    ['2^63 as number', 2 ** 63, 'VARCHAR'],
    ['huge integer', 1e300, 'VARCHAR'],
    ['bigint in range', 9_007_199_254_740_993n, 'BIGINT'],
    ['bigint beyond int64', 2n ** 63n, 'VARCHAR'],
    ['fraction', 1.5, 'DOUBLE'],
    ['NaN', Number.NaN, 'DOUBLE'],
    ['Infinity', Number.POSITIVE_INFINITY, 'DOUBLE'],
    ['boolean', false, 'BOOLEAN'],
    ['object', { a: 1 }, 'JSON'],
    ['array', [1, 2], 'JSON'],
    ['empty array', [], 'JSON'],
    ['null', null, null],
    ['undefined', undefined, null],
  ])('%s', (_, value, type) => {
    expect(inferType(value)).toBe(type);
  });
});

describe('widenType', () => {
  it.each<[ColumnType | null, ColumnType | null, ColumnType | null]>([
    [null, null, null],
    [null, 'BIGINT', 'BIGINT'],
    ['JSON', null, 'JSON'],
    ['BIGINT', 'BIGINT', 'BIGINT'],
    ['BIGINT', 'DOUBLE', 'DOUBLE'],
    ['DOUBLE', 'BIGINT', 'DOUBLE'],
    ['BIGINT', 'VARCHAR', 'VARCHAR'],
    ['VARCHAR', 'DOUBLE', 'VARCHAR'],
    ['BOOLEAN', 'VARCHAR', 'VARCHAR'],
    ['BOOLEAN', 'BIGINT', 'VARCHAR'],
    ['JSON', 'BIGINT', 'VARCHAR'],
    ['VARCHAR', 'JSON', 'VARCHAR'],
    ['JSON', 'BOOLEAN', 'VARCHAR'],
    ['JSON', 'JSON', 'JSON'],
  ])('%s + %s -> %s', (a, b, expected) => {
    expect(widenType(a, b)).toBe(expected);
    expect(widenType(b, a)).toBe(expected);
  });
});

describe('planTableChanges', () => {
  const existing = [
    { name: 'updated_at', type: 'VARCHAR' as const, exact: true },
    { name: 'time', type: 'BIGINT' as const, exact: true },
    { name: 'Score', type: 'BIGINT' as const, exact: true },
    { name: 'count32', type: 'BIGINT' as const, exact: false },
  ];

  it('adds new columns, widens conflicts, matches names case-insensitively, skips untyped new columns', () => {
    const plan = planTableChanges(
      existing,
      [
        { name: 'id', type: 'VARCHAR' },
        { name: 'score', type: 'DOUBLE' },
        { name: 'time', type: 'BIGINT' },
        { name: 'count32', type: 'BIGINT' },
        { name: 'always_null', type: null },
        { name: 'updated_at', type: null },
      ],
      foldIdentifier,
    );
    expect(plan.add).toEqual([{ name: 'id', type: 'VARCHAR' }]);
    expect(plan.alter).toEqual([
      { name: 'Score', type: 'DOUBLE' },
      { name: 'count32', type: 'BIGINT' },
    ]);
    expect(plan.resolved.get('score')).toEqual({ name: 'Score', type: 'DOUBLE' });
    expect(plan.resolved.get('time')).toEqual({ name: 'time', type: 'BIGINT' });
    expect(plan.resolved.get('updated_at')).toEqual({ name: 'updated_at', type: 'VARCHAR' });
    expect(plan.resolved.has('always_null')).toBe(false);
  });

  it('never narrows: a VARCHAR column stays VARCHAR when numbers arrive', () => {
    const plan = planTableChanges(
      [{ name: 'v', type: 'VARCHAR', exact: true }],
      [{ name: 'v', type: 'BIGINT' }],
      foldIdentifier,
    );
    expect(plan.alter).toEqual([]);
    expect(plan.resolved.get('v')).toEqual({ name: 'v', type: 'VARCHAR' });
  });
});

describe('StageSchema', () => {
  it('registers keys in arrival order and widens types batch by batch', () => {
    const stage = new StageSchema();
    const first = stage.observe([{ id: 'a', n: 1, gone: null }]);
    expect(first.added.map((c) => [c.name, c.stageName, c.type])).toEqual([
      ['id', 'c0', 'VARCHAR'],
      ['n', 'c1', 'BIGINT'],
      ['gone', 'c2', null],
    ]);
    expect(stage.observe([{ id: 'b', n: 2 }])).toEqual({ added: [], retyped: [] });
    const third = stage.observe([{ n: 2.5, extra: { x: 1 } }]);
    expect(third.added.map((c) => c.name)).toEqual(['extra']);
    expect(third.retyped.map((c) => [c.name, c.type])).toEqual([['n', 'DOUBLE']]);
    expect(stage.observe([{ n: 'text' }]).retyped.map((c) => c.type)).toEqual(['VARCHAR']);
  });

  it('gives keys that differ only in case their own columns', () => {
    const stage = new StageSchema();
    stage.observe([{ email: 'a', Email: 'b', EMAIL: 'c' }]);
    expect(stage.columns.map((c) => c.name)).toEqual(['email', 'Email__2', 'EMAIL__3']);
  });

  it('marks keys that are Object.prototype members', () => {
    const stage = new StageSchema();
    stage.observe([JSON.parse('{"constructor": 1, "__proto__": 2, "plain": 3}')]);
    expect(stage.columns.map((c) => [c.key, c.inherited])).toEqual([
      ['constructor', true],
      ['__proto__', true],
      ['plain', false],
    ]);
  });
});
