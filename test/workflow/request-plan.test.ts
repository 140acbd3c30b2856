import { describe, expect, it } from 'vitest';
import type { RateBudget } from '../../src/klaviyo/rate-limiter.js';
import { planRequests } from '../../src/workflow/request-plan.js';

/** 10/s and 150/min, answers in 500 ms, a fresh minute. */
const budget = (over: Partial<RateBudget> = {}): RateBudget => ({
  limits: { burstPerSecond: 10, steadyPerMinute: 150 },
  steadyRemaining: 150,
  msToSteadyReset: 60_000,
  latencyMs: 500,
  source: 'headers',
  grantedSinceThrottle: 0,
  ...over,
});

describe('planRequests', () => {
  it('without a budget, latency binds: every allowed request, small slices', () => {
    expect(planRequests({ budget: null, pagesLeft: 500, maxChains: 8 })).toEqual({
      bound: 'latency',
      chains: 8,
      slicePages: 10,
      minPartPages: 1,
      partition: false,
    });
  });

  it('more pages than the minute allows: the per-minute rate x latency, large slices of full pages', () => {
    // 2.5 requests/s x 0.5 s x 1.25 headroom = 1.6: two slices at once.
    expect(planRequests({ budget: budget(), pagesLeft: 200, maxChains: 8 })).toEqual({
      bound: 'steady',
      chains: 2,
      slicePages: 32,
      minPartPages: 32,
      partition: false,
    });
    // Spent, waiting for the reset, and more left than the next minute allows: still the per-minute rate.
    expect(
      planRequests({
        budget: budget({ steadyRemaining: 0, msToSteadyReset: 30_000 }),
        pagesLeft: 400,
        maxChains: 8,
      }),
    ).toMatchObject({ chains: 2, slicePages: 32, partition: false });
  });

  it('once the window is spent and the next one holds the rest, cuts it now into even parts for the burst', () => {
    // 50 pages wait for the reset; the burst keeps 10 x 0.5 x 1.25 = 6.25, so 7 chains busy: 7 parts
    // of 8 pages, made now (they start together at the reset), for the concurrency the fetch may reach.
    const spent = budget({ steadyRemaining: 0, msToSteadyReset: 20_000 });
    expect(planRequests({ budget: spent, pagesLeft: 50, maxChains: 3, workers: 8 })).toEqual({
      bound: 'steady',
      chains: 7,
      slicePages: 8,
      minPartPages: 8,
      partition: true,
    });
    // Few pages left: no part shorter than 8 pages, so fewer chains.
    expect(planRequests({ budget: spent, pagesLeft: 20, maxChains: 8 })).toMatchObject({
      chains: 3,
      slicePages: 8,
      partition: true,
    });
    // Budget left in this window: spend it first, as before.
    expect(
      planRequests({
        budget: budget({ steadyRemaining: 20, msToSteadyReset: 20_000 }),
        pagesLeft: 50,
        maxChains: 8,
      }),
    ).toMatchObject({ bound: 'steady', slicePages: 32, partition: false });
  });

  it('spends what the window has left before it resets, no faster than the burst allows', () => {
    // 100 left in 5 s is 20/s, above the burst of 10/s: 10 x 0.5 x 1.25 = 6.25, so 7.
    const plan = planRequests({
      budget: budget({ steadyRemaining: 100, msToSteadyReset: 5000 }),
      pagesLeft: 300,
      maxChains: 8,
    });
    expect(plan).toMatchObject({ bound: 'steady', chains: 7 });
    expect(
      planRequests({
        budget: budget({ steadyRemaining: 100, msToSteadyReset: 5000 }),
        pagesLeft: 300,
        maxChains: 3,
      }).chains,
    ).toBe(3);
  });

  it('when the window holds the rest, the burst or the pages left bound it, and cuts are cheap', () => {
    // 40 pages over 7 chains: parts of at least 6 pages (an even share).
    expect(planRequests({ budget: budget(), pagesLeft: 40, maxChains: 8 })).toEqual({
      bound: 'burst',
      chains: 7,
      slicePages: 10,
      minPartPages: 6,
      partition: false,
    });
    // Each chain an even share of the rest, parts of at least 8 pages.
    expect(planRequests({ budget: budget(), pagesLeft: 140, maxChains: 8 })).toMatchObject({
      chains: 7,
      slicePages: 20,
      minPartPages: 8,
    });
    // The last pages: never shorter parts than an earlier plan of the load allowed, so they are not
    // cut into ever smaller pieces that each end on a partial page.
    expect(planRequests({ budget: budget(), pagesLeft: 12, maxChains: 8 }).minPartPages).toBe(2);
    expect(
      planRequests({ budget: budget(), pagesLeft: 12, maxChains: 8, leastPartPages: 8 }).minPartPages,
    ).toBe(8);
    // Three pages left: three slices of a page each at most.
    expect(planRequests({ budget: budget(), pagesLeft: 2.5, maxChains: 8 })).toMatchObject({
      bound: 'latency',
      chains: 3,
    });
    // Before the first answer an assumed 250 ms: 10 x 0.25 x 1.25 = 3.1, so 4.
    expect(planRequests({ budget: budget({ latencyMs: null }), pagesLeft: 40, maxChains: 8 }).chains).toBe(4);
  });
});
