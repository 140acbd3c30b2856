import type { RateBudget } from '../klaviyo/rate-limiter.js';

/**
 * What holds a source's fetch back right now:
 * - `latency`: nothing throttles; more pages read at once finish sooner;
 * - `burst`: the per-second limit: more at once than burst x latency only queues in the limiter;
 * - `steady`: the window's pages outnumber what the per-minute window still allows, so the load waits
 *   for its reset whatever it does; every extra request (a cut slice ends on a partial page) costs
 *   budget, and so time.
 * CPU is the fourth bound; the adaptive concurrency (concurrency.ts) caps `maxChains` for it.
 * Measured with `npm run bench` (scenarios 1 and 4): where the next window holds the rest, cutting it
 * into even parts as the window is spent, rather than by the first answers after its reset, took the
 * requests per page from 1.045-1.075 to 1.01-1.03.
 */
export type Bound = 'latency' | 'burst' | 'steady';

export interface PlanInput {
  /** The stream's rate-limit budget; null when the fetcher knows none (no limits to plan for). */
  budget: RateBudget | null;
  /** Pages still to read in the window, estimated from the density read so far; null before a full page. */
  pagesLeft: number | null;
  /** Requests the fetch may have going now (its concurrency). */
  maxChains: number;
  /** Requests the fetch may ever have going (its concurrency's maximum); default `maxChains`. */
  workers?: number;
  /**
   * The shortest part this load's earlier plans allowed while the window held the rest (default 1):
   * never planned lower, so the last pages are not cut into ever smaller pieces.
   */
  leastPartPages?: number;
  /**
   * Time one slice took per page lately (answer, flatten, stage, next request); null: the budget's
   * response time. On a busy machine it is longer than the API's latency.
   */
  cycleMs?: number | null;
}

export interface RequestPlan {
  bound: Bound;
  /** Slices worth reading at once. */
  chains: number;
  /** Pages each new slice is sized to, at the density read so far. */
  slicePages: number;
  /** A rest shorter than this many pages is not cut off: its partial page would cost more than it hides. */
  minPartPages: number;
  /**
   * Cut the rest of every slice into parts of `slicePages` now, as slices that wait for a worker,
   * instead of sharing with idle workers only: the window is spent and everything left is read after
   * its reset, when it should start at once, in even parts.
   */
  partition: boolean;
}

/** Assumed before the first answer. */
const DEFAULT_LATENCY_MS = 250;
/**
 * Pages per slice when requests are cheap (latency binds): small enough that all readers stay close
 * to the commit frontier.
 */
const LATENCY_SLICE_PAGES = 10;
/** Pages per slice while the steady budget binds: each cut costs about one request, here ~3%. */
const BUDGET_SLICE_PAGES = 32;
/** Response times vary: a little more in flight than rate x mean latency keeps the rate. */
const HEADROOM = 1.25;
/**
 * Where a rate limit is known, no part shorter than this many pages is cut off: its partial page is
 * at most an eighth more requests, while the parts it would hide finish a few answers apart anyway.
 */
const BUDGET_MIN_PART_PAGES = 8;

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

/**
 * How many slices to read at once and how to cut new ones, from the limiter's state. Reading `c`
 * slices at once sends about c / latency requests a second.
 * - The steady window binds and the rest outlasts the next one too: only the per-minute rate matters,
 *   so spend what the window has left before it resets (or the per-minute rate, once it is spent) with
 *   few large slices of full pages.
 * - The steady window binds but the next one holds the rest: as above while this one lasts; once it is
 *   spent, every page left waits for the reset, and then the burst alone bounds it. So cut the rest
 *   now into even parts, one per chain the burst keeps busy, and let them all start at the reset
 *   (cut later, by the pages of the first answers, the parts are uneven and the cuts many).
 * - The window holds the rest: up to what the burst allows, each slice an even share of the rest, and
 *   no part shorter than that share (at most `BUDGET_MIN_PART_PAGES`) or than an earlier plan of the
 *   load allowed (`leastPartPages`): the last pages are not cut into ever smaller pieces, each ending
 *   on a partial page. Without a rate limit, down to a page.
 */
export function planRequests(input: PlanInput): RequestPlan {
  const max = Math.max(1, Math.floor(input.maxChains));
  const { budget, pagesLeft } = input;
  if (budget === null) {
    return {
      bound: 'latency',
      chains: max,
      slicePages: LATENCY_SLICE_PAGES,
      minPartPages: 1,
      partition: false,
    };
  }
  const latencySeconds =
    Math.max(input.cycleMs ?? 0, budget.latencyMs ?? (input.cycleMs ? 0 : DEFAULT_LATENCY_MS)) / 1000;
  const burstChains = Math.max(1, Math.ceil(budget.limits.burstPerSecond * latencySeconds * HEADROOM));
  if (pagesLeft !== null && pagesLeft > budget.steadyRemaining) {
    const afterReset = pagesLeft - budget.steadyRemaining;
    if (budget.steadyRemaining <= 0 && afterReset <= budget.limits.steadyPerMinute) {
      // The concurrency grows while requests wait for the reset: plan for what it may reach.
      const most = Math.max(max, Math.floor(input.workers ?? max));
      const chains = clamp(Math.min(burstChains, Math.ceil(pagesLeft / BUDGET_MIN_PART_PAGES)), 1, most);
      const part = Math.max(BUDGET_MIN_PART_PAGES, Math.ceil(pagesLeft / chains));
      return { bound: 'steady', chains, slicePages: part, minPartPages: part, partition: true };
    }
    const seconds = Math.max(1, budget.msToSteadyReset / 1000);
    const rate = Math.max(budget.steadyRemaining / seconds, budget.limits.steadyPerMinute / 60);
    return {
      bound: 'steady',
      chains: clamp(Math.ceil(rate * latencySeconds * HEADROOM), 1, Math.min(max, burstChains)),
      slicePages: BUDGET_SLICE_PAGES,
      minPartPages: BUDGET_SLICE_PAGES,
      partition: false,
    };
  }
  // The window holds what is left: a cut's partial page costs budget that is there anyway, not time;
  // but each is one more request of the account's budget, so no part shorter than an even share of
  // the rest (up to BUDGET_MIN_PART_PAGES), nor than any earlier plan of this load allowed.
  const wanted = pagesLeft === null ? max : Math.max(1, Math.ceil(pagesLeft));
  const chains = clamp(Math.min(burstChains, wanted), 1, max);
  const share = pagesLeft === null ? null : Math.ceil(pagesLeft / chains);
  return {
    bound: burstChains < Math.min(max, wanted) ? 'burst' : 'latency',
    chains,
    slicePages: Math.max(LATENCY_SLICE_PAGES, share ?? 0),
    minPartPages: Math.max(input.leastPartPages ?? 1, Math.min(BUDGET_MIN_PART_PAGES, share ?? 1)),
    partition: false,
  };
}
