/**
 * The simulator's tags, tag groups, coupons, forms, images, catalog objects and push tokens: paging,
 * the filters, sorts and includes of the 2026-07-15 document (and its refusals), each endpoint's rate
 * limit, and the mutation hooks (delete, suppress).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CollectionName } from '../../src/klaviyo/endpoints/index.js';
import type { Simulator } from '../../src/simulator/index.js';
import { call, scan, small } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());

// biome-ignore lint/suspicious/noExplicitAny: test JSON
type Json = any;

const PAGED: [CollectionName, Record<string, string>][] = [
  ['tags', { 'page[size]': '5' }],
  ['tag-groups', { 'page[size]': '2' }],
  ['coupons', { 'page[size]': '4' }],
  ['forms', { 'page[size]': '3', sort: 'updated_at' }],
  ['images', { 'page[size]': '7', sort: '-updated_at' }],
  ['catalog-items', { 'page[size]': '9', sort: 'created' }],
  ['catalog-variants', { 'page[size]': '11' }],
  ['catalog-categories', { 'page[size]': '2', sort: '-created' }],
  ['push-tokens', { 'page[size]': '6' }],
];

describe('paging', () => {
  test.each(PAGED)('%s: every record once over several pages', async (name, query) => {
    const { records, pages } = await scan(sim, `/api/${name}`, query);
    expect(pages).toBeGreaterThan(1);
    expect(records.map((r: Json) => r.id).sort()).toEqual(sim.data.ids(name).sort());
    const sort = query.sort;
    if (sort) {
      const field = sort.replace(/^-/, '');
      const times = records.map((r: Json) => Date.parse(r.attributes[field]));
      const ordered = [...times].sort((a, b) => (sort.startsWith('-') ? b - a : a - b));
      expect(times).toEqual(ordered);
    }
  });
});

describe('filters and includes', () => {
  const data = () => sim.data;

  test('catalog variants of one item, items of one category, any(ids,...)', async () => {
    const items = data().objects.items.records;
    const item = items.find((i) => data().objects.variants.records.some((v) => v.itemId === i.id))!;
    const variants = await scan(sim, '/api/catalog-variants', { filter: `equals(item.id,"${item.id}")` });
    expect(variants.records.map((r: Json) => r.id).sort()).toEqual(
      data()
        .objects.variants.records.filter((v) => v.itemId === item.id)
        .map((v) => v.id)
        .sort(),
    );
    expect(variants.records[0].relationships.item.data).toEqual({ type: 'catalog-item', id: item.id });
    const category = items[0]!.categoryIds[0]!;
    const inCategory = await scan(sim, '/api/catalog-items', { filter: `equals(category.id,"${category}")` });
    expect(inCategory.records.map((r: Json) => r.id).sort()).toEqual(
      items
        .filter((i) => i.categoryIds[0] === category)
        .map((i) => i.id)
        .sort(),
    );
    const two = [items[1]!.id, items[2]!.id];
    const byIds = await call(sim, '/api/catalog-items', { filter: `any(ids,["${two[0]}","${two[1]}"])` });
    expect(byIds.body.data.map((r: Json) => r.id).sort()).toEqual(two.sort());
  });

  test('catalog items include their variants', async () => {
    const reply = await call(sim, '/api/catalog-items', { include: 'variants' });
    const ids = new Set(reply.body.included.map((r: Json) => r.id));
    for (const item of reply.body.data) {
      for (const variant of item.relationships.variants.data) expect(ids.has(variant.id)).toBe(true);
    }
    expect(reply.body.included.every((r: Json) => r.type === 'catalog-variant')).toBe(true);
  });

  test('forms and images window on updated_at with every comparison', async () => {
    for (const name of ['forms', 'images'] as const) {
      const times = data()
        .objects.collection(name)
        .records.map((r) => r.updated)
        .sort((a, b) => a - b);
      const mid = times[Math.floor(times.length / 2)]!;
      const iso = new Date(mid).toISOString();
      const ge = await scan(sim, `/api/${name}`, {
        filter: `greater-or-equal(updated_at,${iso})`,
        sort: 'updated_at',
      });
      const lt = await scan(sim, `/api/${name}`, { filter: `less-than(updated_at,${iso})` });
      expect(ge.records.length + lt.records.length).toBe(times.length);
      expect(ge.records.length).toBe(times.filter((t) => t >= mid).length);
    }
  });

  test('tags include their tag group; the default tag group; push tokens of one profile with it included', async () => {
    const tags = await call(sim, '/api/tags', { include: 'tag-group' });
    const groups = new Map(tags.body.included.map((g: Json) => [g.id, g]));
    for (const tag of tags.body.data) expect(groups.has(tag.relationships['tag-group'].data.id)).toBe(true);
    const defaults = await call(sim, '/api/tag-groups', { filter: 'equals(default,true)' });
    expect(defaults.body.data.map((g: Json) => g.attributes.name)).toEqual(['Default Tag Group']);
    const token = data().objects.pushTokens.records[0]!;
    const profileId = sim.data.profiles.id(token.profileIndex);
    const mine = await call(sim, '/api/push-tokens', {
      filter: `equals(profile.id,"${profileId}")`,
      include: 'profile',
    });
    expect(mine.body.data.length).toBeGreaterThan(0);
    expect(mine.body.data.every((t: Json) => t.relationships.profile.data.id === profileId)).toBe(true);
    expect(mine.body.included.map((p: Json) => p.id)).toEqual([profileId]);
  });

  test.each([
    ['/api/coupons', { sort: 'id' }, 'sort'],
    ['/api/coupons', { filter: 'equals(external_id,"X")' }, 'filter'],
    ['/api/catalog-items', { filter: 'greater-than(created,2025-01-01T00:00:00Z)' }, 'filter'],
    ['/api/catalog-items', { 'page[size]': '101' }, 'page[size]'],
    ['/api/images', { filter: 'greater-than(created_at,2025-01-01T00:00:00Z)' }, 'filter'],
    ['/api/push-tokens', { sort: 'created' }, 'sort'],
    ['/api/tag-groups', { include: 'tags' }, 'include'],
  ])('%s %o is refused (400) as the API refuses it', async (path, query, parameter) => {
    const reply = await call(sim, path, query as Record<string, string>);
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body.errors[0])).toContain(parameter === 'filter' ? 'filter' : parameter);
  });

  test('revision 2025-10-15: tags have no page[size] (50 a page); coupons did not exist at 2023-02-22', async () => {
    const refused = await call(sim, '/api/tags', { 'page[size]': '10' }, { revision: '2025-10-15' });
    expect(refused.status).toBe(400);
    const old = await call(sim, '/api/tags', {}, { revision: '2025-10-15' });
    expect(old.status).toBe(200);
    expect(old.body.data.length).toBe(Math.min(50, sim.data.ids('tags').length));
    expect((await call(sim, '/api/coupons', {}, { revision: '2023-02-22' })).status).toBe(404);
  });
});

describe('rate limits and mutations', () => {
  test.each([
    ['tags', '60, 3;w=1, 60;w=60'],
    ['coupons', '750, 75;w=1, 750;w=60'],
    ['images', '150, 10;w=1, 150;w=60'],
    ['catalog-variants', '3500, 350;w=1, 3500;w=60'],
  ])('%s has its documented limits', async (name, limit) => {
    const s = await small({ rateLimits: 'real' });
    try {
      expect((await call(s, `/api/${name}`)).headers.get('ratelimit-limit')).toBe(limit);
    } finally {
      await s.close();
    }
  });

  test('deleted objects (an item with its variants) and lifted suppressions are no longer returned', async () => {
    const s = await small({ seed: 7 });
    try {
      const itemVariants = (id: string) => s.data.objects.variants.records.filter((v) => v.itemId === id);
      const withVariants = s.data.objects.items.records.filter((i) => itemVariants(i.id).length > 0).length;
      expect(withVariants).toBeGreaterThan(0);
      const before = s.data.ids('catalog-variants').length;
      const deleted = s.data.deleteRecords({ 'catalog-items': 3, tags: 2 });
      const items = await scan(s, '/api/catalog-items', {});
      expect(
        items.records.map((r: Json) => r.id).filter((id: string) => deleted['catalog-items']?.includes(id)),
      ).toEqual([]);
      const variants = await scan(s, '/api/catalog-variants', {});
      const gone = new Set(deleted['catalog-items']);
      expect(variants.records.some((v: Json) => gone.has(v.relationships.item.data.id))).toBe(false);
      expect(variants.records.length).toBeLessThanOrEqual(before);
      expect((await scan(s, '/api/tags', {})).records.length).toBe(s.data.ids('tags').length);

      const filter = 'greater-than(subscriptions.email.marketing.suppression.timestamp,1970-01-01T00:00:00Z)';
      const suppressedIds = async () =>
        (await scan(s, '/api/profiles', { filter, 'additional-fields[profile]': 'subscriptions' })).records;
      const first = await suppressedIds();
      const lifted = s.data.setSuppression(1, false);
      const added = s.data.setSuppression(2, true);
      const after = await suppressedIds();
      const ids = after.map((p: Json) => p.id).sort();
      expect(ids).toEqual(
        [...first.map((p: Json) => p.id).filter((id: string) => !lifted.includes(id)), ...added].sort(),
      );
      const suppressed = after.find((p: Json) => p.id === added[0]);
      expect(suppressed.attributes.subscriptions.email.marketing.suppression).toEqual([
        expect.objectContaining({ timestamp: expect.any(String) }),
      ]);
    } finally {
      await s.close();
    }
  });
});
