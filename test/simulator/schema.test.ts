import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, small } from './helpers.js';

// Klaviyo's OpenAPI document for 2026-07-15, trimmed to the served operations (docs/klaviyo-api/README.md).
const SPEC_PATH = fileURLToPath(
  new URL('../../docs/klaviyo-api/openapi-2026-07-15.trimmed.json', import.meta.url),
);
// biome-ignore lint/suspicious/noExplicitAny: JSON schema
type Json = any;

/**
 * OpenAPI 3.0 -> JSON Schema for ajv: `nullable` becomes a null alternative; overlapping `oneOf`
 * alternatives in the spec (send_options is three identical objects) are relaxed to `anyOf`.
 */
function convert(node: Json): Json {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k === 'example' || k === 'discriminator' || k === 'x-klaviyo-filters') continue;
    out[k === 'oneOf' ? 'anyOf' : k] = convert(v);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string')
      return { ...out, type: [out.type, 'null'], ...(out.enum ? { enum: [...out.enum, null] } : {}) };
    return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8'));
const components = convert(spec.components);
// The real API sends `"next": null` on the last page (the spec types links as plain uri strings).
for (const key of ['prev', 'next', 'first', 'last']) {
  const prop = components.schemas.CollectionLinks.properties[key];
  if (prop) components.schemas.CollectionLinks.properties[key] = { anyOf: [{ type: 'null' }, prop] };
}
const ajv = new Ajv({ strict: false, allErrors: true });
(addFormatsImport as unknown as (a: Ajv) => void)(ajv);
ajv.addSchema({ $id: 'openapi', components }, 'openapi');

function validatorFor(path: string, method: 'get' | 'post'): ValidateFunction {
  const op = spec.paths[path][method];
  const status = method === 'post' ? '200' : '200';
  const schema = op.responses[status].content['application/vnd.api+json'].schema;
  const ref = (schema.$ref as string).replace('#/components', 'openapi#/components');
  return ajv.compile({ $ref: ref });
}

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());

const CASES: [string, Record<string, string>][] = [
  ['/api/events', { include: 'metric,profile,attributions' }],
  [
    '/api/events',
    { 'fields[event]': 'datetime,uuid', 'fields[profile]': 'email,location.city', include: 'profile' },
  ],
  [
    '/api/profiles',
    { 'additional-fields[profile]': 'subscriptions,predictive_analytics', 'page[size]': '100' },
  ],
  ['/api/profiles', { include: 'push-tokens,conversations' }],
  ['/api/campaigns', { filter: "equals(messages.channel,'email')", include: 'campaign-messages,tags' }],
  ['/api/campaigns', { filter: "equals(messages.channel,'email'),equals(archived,true)" }],
  ['/api/campaigns', { filter: "equals(messages.channel,'sms')", include: 'campaign-messages' }],
  ['/api/campaigns', { filter: "equals(messages.channel,'mobile_push')", include: 'campaign-messages' }],
  ['/api/lists', { include: 'tags,flow-triggers' }],
  ['/api/templates', { 'additional-fields[template]': 'definition' }],
  ['/api/metrics', { include: 'flow-triggers' }],
  ['/api/segments', {}],
  ['/api/flows', { include: 'flow-actions,tags' }],
  ['/api/tags', { include: 'tag-group', 'page[size]': '50' }],
  ['/api/tag-groups', {}],
  ['/api/coupons', {}],
  ['/api/forms', { sort: 'updated_at' }],
  ['/api/images', {}],
  ['/api/catalog-items', { include: 'variants', sort: 'created' }],
  ['/api/catalog-variants', {}],
  ['/api/catalog-categories', {}],
  ['/api/push-tokens', { include: 'profile' }],
  [
    '/api/profiles',
    {
      filter: 'greater-than(subscriptions.email.marketing.suppression.timestamp,1970-01-01T00:00:00Z)',
      'additional-fields[profile]': 'subscriptions',
    },
  ],
];

describe('responses match the official OpenAPI schema (2026-07-15)', () => {
  test.each(CASES)('%s %o', async (path, query) => {
    const validate = validatorFor(path, 'get');
    const reply = await call(sim, path, query);
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/vnd.api+json');
    expect(reply.body.data.length).toBeGreaterThan(0);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
  });

  // Child collections: the spec's path with a parent that has children, and the query our streams send.
  const CHILD_CASES: [string, () => string, Record<string, string>][] = [
    [
      '/api/lists/{id}/profiles',
      () => sim.data.lists.records[0]!.id,
      {
        'page[size]': '100',
        sort: 'joined_group_at',
        filter: 'greater-or-equal(joined_group_at,2020-01-01T00:00:00Z)',
      },
    ],
    ['/api/segments/{id}/profiles', () => sim.data.segments.records[0]!.id, { 'page[size]': '100' }],
    [
      '/api/flows/{id}/flow-actions',
      () => sim.data.flows.records[0]!.id,
      { 'page[size]': '50', sort: 'updated' },
    ],
    [
      '/api/flow-actions/{id}/flow-messages',
      () => sim.data.children.flowMessages()[0]!.actionId,
      { 'page[size]': '50', sort: 'created' },
    ],
    ['/api/campaigns/{id}/campaign-messages', () => sim.data.campaigns.records[0]!.id, {}],
    ['/api/lists/{id}/relationships/profiles', () => sim.data.lists.records[0]!.id, { 'page[size]': '100' }],
    [
      '/api/segments/{id}/relationships/profiles',
      () => sim.data.segments.records[0]!.id,
      { 'page[size]': '100' },
    ],
  ];

  test.each(CHILD_CASES)('%s (one parent) %o', async (specPath, parent, query) => {
    const validate = validatorFor(specPath, 'get');
    const reply = await call(sim, specPath.replace('{id}', parent()), query);
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    expect(reply.body.data.length).toBeGreaterThan(0);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
  });

  test("a list's relationships/profiles are its members' identifiers only, the members /profiles lists", async () => {
    const list = sim.data.lists.records[0]!.id;
    const ids = await call(sim, `/api/lists/${list}/relationships/profiles`, { 'page[size]': '100' });
    const profiles = await call(sim, `/api/lists/${list}/profiles`, { 'page[size]': '100' });
    const idsOf = (body: { data: { id: string }[] }) => body.data.map((r) => r.id).sort();
    expect(idsOf(ids.body)).toEqual(idsOf(profiles.body));
    for (const r of ids.body.data) expect(Object.keys(r).sort()).toEqual(['id', 'type']);
    expect(
      (await call(sim, `/api/lists/${list}/relationships/profiles`, { 'fields[profile]': 'email' })).status,
    ).toBe(400);
    expect(
      (await call(sim, `/api/lists/${list}/relationships/profiles`, { 'page[size]': '101' })).status,
    ).toBe(400);
  });

  test('GET /api/coupon-codes: one coupon’s codes by the required filter, with the schema', async () => {
    const validate = validatorFor('/api/coupon-codes', 'get');
    const codes = sim.data.objects.couponCodes.records;
    const coupon = codes[0]!.couponId;
    const reply = await call(sim, '/api/coupon-codes', {
      filter: `equals(coupon.id,'${coupon}')`,
      'page[size]': '100',
      include: 'coupon',
    });
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
    expect(reply.body.data.map((d: { id: string }) => d.id).sort()).toEqual(
      codes
        .filter((c) => c.couponId === coupon)
        .map((c) => c.id)
        .sort(),
    );
    expect(reply.body.included.map((c: { id: string }) => c.id)).toEqual([coupon]);
    // The filter is required (a coupon or a profile); no sort; page[size] at most 100 (none in 2025-10-15).
    const one = { filter: `equals(coupon.id,'${coupon}')` };
    expect((await call(sim, '/api/coupon-codes', {})).status).toBe(400);
    expect((await call(sim, '/api/coupon-codes', { filter: 'equals(status,"USED")' })).status).toBe(400);
    expect((await call(sim, '/api/coupon-codes', { ...one, sort: 'id' })).status).toBe(400);
    expect((await call(sim, '/api/coupon-codes', { ...one, 'page[size]': '101' })).status).toBe(400);
    expect(
      (await call(sim, '/api/coupon-codes', { ...one, 'page[size]': '100' }, { revision: '2025-10-15' }))
        .status,
    ).toBe(400);
    expect((await call(sim, '/api/coupon-codes', { ...one, filter: `contains(coupon.id,'x')` })).status).toBe(
      400,
    );
    const any = {
      filter: `and(any(coupon.id,['${coupon}','NONE']),greater-than(expires_at,2000-01-01T00:00:00Z))`,
    };
    const both = await call(sim, '/api/coupon-codes', any);
    expect(both.status, both.text.slice(0, 300)).toBe(200);
    expect(both.body.data.length).toBe(
      codes.filter((c) => c.couponId === coupon && c.expiresAt !== null).length,
    );
  });

  test('a child collection of an unknown parent is 404', async () => {
    expect((await call(sim, '/api/lists/NOPE00/profiles', {})).status).toBe(404);
  });

  test('child collections refuse what their revision does not allow', async () => {
    const list = `/api/lists/${sim.data.lists.records[0]!.id}/profiles`;
    const since = { filter: 'greater-or-equal(joined_group_at,2020-01-01T00:00:00Z)' };
    expect((await call(sim, list, { sort: 'updated' })).status).toBe(400);
    expect((await call(sim, list, { 'page[size]': '101' })).status).toBe(400);
    expect((await call(sim, list, { include: 'lists' })).status).toBe(400);
    // joined_group_at is neither filtered nor sorted on in the 2023-02-22 document
    expect((await call(sim, list, since, { revision: '2023-02-22' })).status).toBe(400);
    expect((await call(sim, list, since)).status).toBe(200);
    const flow = `/api/flows/${sim.data.flows.records[0]!.id}/flow-actions`;
    expect((await call(sim, flow, { 'page[size]': '51' })).status).toBe(400);
    const campaign = `/api/campaigns/${sim.data.campaigns.records[0]!.id}/campaign-messages`;
    expect((await call(sim, campaign, { 'page[size]': '10' })).status).toBe(400);
  });

  test('POST /api/flow-series-reports: valid bodies answer with the schema, the rest is refused', async () => {
    const validate = validatorFor('/api/flow-series-reports', 'post');
    const attributes = {
      statistics: ['recipients', 'open_rate'],
      timeframe: { start: '2025-12-01T00:00:00+00:00', end: '2025-12-31T00:00:00+00:00' },
      interval: 'daily',
      conversion_metric_id: sim.data.metrics.id(0),
    };
    const post = (attrs: Record<string, unknown>) =>
      call(
        sim,
        '/api/flow-series-reports',
        {},
        {
          method: 'POST',
          body: { data: { type: 'flow-series-report', attributes: attrs } },
        },
      );
    const reply = await post(attributes);
    expect(reply.status, reply.text).toBe(200);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
    expect(reply.body.data.attributes.date_times).toHaveLength(30);
    expect(reply.body.data.attributes.results.length).toBe(sim.data.children.flowMessages().length);
    const { conversion_metric_id: _, ...noMetric } = attributes;
    for (const refused of [
      noMetric,
      { ...attributes, statistics: ['opens', 'made_up'] },
      { ...attributes, interval: 'fortnightly' },
      { ...attributes, timeframe: { start: '2025-01-01T00:00:00+00:00', end: '2025-12-31T00:00:00+00:00' } },
      { ...attributes, group_by: ['send_channel'] },
      { ...attributes, conversion_metric_id: 'NOPE00' },
    ])
      expect((await post(refused)).status).toBe(400);
  });

  test('POST /api/campaign-values-reports: totals of a timeframe with the schema, the rest is refused', async () => {
    const validate = validatorFor('/api/campaign-values-reports', 'post');
    // The day of the latest send, whole: both ends of a timeframe are in it.
    const sends = sim.data.campaigns.records.flatMap((c) => (c.sendTime === null ? [] : [c.sendTime]));
    const day = Math.floor(Math.max(...sends) / 86_400_000) * 86_400_000;
    const attributes = {
      statistics: ['recipients', 'open_rate'],
      timeframe: { start: new Date(day).toISOString(), end: new Date(day + 86_399_000).toISOString() },
      conversion_metric_id: sim.data.metrics.id(0),
      group_by: ['campaign_id', 'campaign_message_id', 'send_channel'],
    };
    const post = (attrs: Record<string, unknown>) =>
      call(
        sim,
        '/api/campaign-values-reports',
        {},
        { method: 'POST', body: { data: { type: 'campaign-values-report', attributes: attrs } } },
      );
    const reply = await post(attributes);
    expect(reply.status, reply.text).toBe(200);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
    const sent = sim.data.campaigns.records.filter(
      (c) => c.sendTime !== null && c.sendTime < day + 86_400_000,
    );
    expect(reply.body.data.attributes.results).toHaveLength(sent.length);
    expect(sent.length).toBeGreaterThan(0);
    const { conversion_metric_id: _, ...noMetric } = attributes;
    for (const refused of [
      noMetric,
      { ...attributes, statistics: ['opens', 'made_up'] },
      { ...attributes, timeframe: { start: '2024-01-01T00:00:00+00:00', end: '2025-12-31T00:00:00+00:00' } },
      { ...attributes, group_by: ['send_channel'] },
      { ...attributes, conversion_metric_id: 'NOPE00' },
    ])
      expect((await post(refused)).status).toBe(400);
  });

  test('POST /api/metric-aggregates', async () => {
    const validate = validatorFor('/api/metric-aggregates', 'post');
    const metricId = sim.data.metrics.id(0);
    const reply = await call(
      sim,
      '/api/metric-aggregates',
      {},
      {
        method: 'POST',
        body: {
          data: {
            type: 'metric-aggregate',
            attributes: {
              metric_id: metricId,
              measurements: ['count', 'sum_value', 'unique'],
              interval: 'day',
              filter: [
                'greater-or-equal(datetime,2025-12-01T00:00:00)',
                'less-than(datetime,2026-01-01T00:00:00)',
              ],
            },
          },
        },
      },
    );
    expect(reply.status, reply.text).toBe(200);
    const ok = validate(reply.body);
    expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
    const counts: number[] = reply.body.data.attributes.data[0].measurements.count;
    expect(counts).toHaveLength(31);
    const expected = sim.data.ids('events', (get) => {
      const t = get('datetime') as number;
      return get('metric_id') === metricId && t >= Date.UTC(2025, 11, 1) && t < Date.UTC(2026, 0, 1);
    }).length;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(expected);
  });
});
