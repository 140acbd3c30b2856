import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, small } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());

test('smoke', async () => {
  for (const p of [
    '/api/events',
    '/api/profiles/',
    '/api/lists',
    '/api/templates',
    '/api/metrics',
    '/api/segments',
    '/api/flows',
  ]) {
    const r = await call(sim, p);
    console.log(p, r.status, r.text.slice(0, 600));
    expect(r.status).toBe(200);
  }
  const c = await call(sim, '/api/campaigns', {
    filter: "equals(messages.channel,'email')",
    include: 'campaign-messages',
  });
  console.log(c.status, c.text.slice(0, 1200));
});
