import { ApiKeySession, EventsApi, ProfilesApi } from 'klaviyo-api';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEMO_API_KEY, type Simulator } from '../../src/simulator/index.js';
import { small } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());

const cursorOf = (next: string | undefined | null) =>
  next ? new URL(next).searchParams.get('page[cursor]') : null;

test('official Node SDK pages through events with a filter', async () => {
  const api = new EventsApi(new ApiKeySession(DEMO_API_KEY));
  api.basePath = sim.baseUrl;
  const filter =
    'greater-or-equal(datetime,2025-12-20T00:00:00.000Z),less-than(datetime,2026-01-10T00:00:00.000Z)';
  const ids: string[] = [];
  let pageCursor: string | undefined;
  for (;;) {
    const { body, response } = await api.getEvents({
      filter,
      sort: 'datetime',
      pageSize: 250,
      include: ['metric'],
      pageCursor,
    });
    expect(response.headers['content-type']).toBe('application/vnd.api+json');
    ids.push(...body.data.map((e) => e.id as string));
    const next = cursorOf(body.links?.next);
    if (!next) break;
    pageCursor = next;
  }
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(
    sim.count('events', {
      field: 'datetime',
      gte: Date.parse('2025-12-20T00:00:00Z'),
      lt: Date.parse('2026-01-10T00:00:00Z'),
    }),
  );
});

test('official Node SDK pages through profiles', async () => {
  const api = new ProfilesApi(new ApiKeySession(DEMO_API_KEY));
  api.basePath = sim.baseUrl;
  const ids: string[] = [];
  let pageCursor: string | undefined;
  for (;;) {
    const { body } = await api.getProfiles({
      filter: 'greater-than(updated,2025-12-01T00:00:00Z)',
      sort: 'updated',
      pageSize: 50,
      additionalFieldsProfile: ['subscriptions'],
      pageCursor,
    });
    ids.push(...body.data.map((p) => p.id as string));
    const next = cursorOf(body.links?.next);
    if (!next) break;
    pageCursor = next;
  }
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(
    sim.count('profiles', { field: 'updated', gt: Date.parse('2025-12-01T00:00:00Z') }),
  );
});
