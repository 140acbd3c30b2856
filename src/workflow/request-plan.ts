import type { RateBudget } from '../klaviyo/rate-limiter.js';

/**
 * What holds a source's fetch back right now:
 * - `latency`: nothing throttles; more pages read at once finish sooner;
 * - `burst`: the per-second limit: more at once than burst x latency only queues in the limiter;
 * - `steady`: the window's pages outnumber what the per-minute window still allows, so the load waits
 *   for its reset whatever it does; every extra request (a cut slice ends on a partial page) costs
 *   budget, and so time.
 * CPU is the fourth bound; the adaptive concurrency (concurrency.ts) caps `maxChains` for it.
 */
export type Bound = 'latency' | 'burst' | 'steady';

export interface PlanInput {
  /** The stream's rate-limit budget; null when the fetcher knows none (no limits to plan for). */
  budget: RateBudget | null;
  /** Pages still to read in the window, estimated from the density read so far; null before a full page. */
  pagesLeft: number | null;
  /** Requests the fetch may have going now (its concurrency). */
  maxChains: number;
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

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

/**
 * How many slices to read at once and how to cut new ones, from the limiter's state. Reading `c`
 * slices at once sends about c / latency requests a second. When the steady window binds, that only
 * needs to spend what the window has left before it resets (or the per-minute rate, once it is
 * spent), and new slices are large; otherwise up to what the burst allows, each slice at least a
 * page.
 */
export function planRequests(input: PlanInput): RequestPlan {
  const max = Math.max(1, Math.floor(input.maxChains));
  const { budget, pagesLeft } = input;
  if (budget === null) {
    return { bound: 'latency', chains: max, slicePages: LATENCY_SLICE_PAGES, minPartPages: 1 };
  }
  const latencySeconds =
    Math.max(input.cycleMs ?? 0, budget.latencyMs ?? (input.cycleMs ? 0 : DEFAULT_LATENCY_MS)) / 1000;
  const burstChains = Math.max(1, Math.ceil(budget.limits.burstPerSecond * latencySeconds * HEADROOM));
  if (pagesLeft !== null && pagesLeft > budget.steadyRemaining) {
    const seconds = Math.max(1, budget.msToSteadyReset / 1000);
    const rate = Math.max(budget.steadyRemaining / seconds, budget.limits.steadyPerMinute / 60);
    return {
      bound: 'steady',
      chains: clamp(Math.ceil(rate * latencySeconds * HEADROOM), 1, Math.min(max, burstChains)),
      slicePages: BUDGET_SLICE_PAGES,
      minPartPages: BUDGET_SLICE_PAGES,
    };
  }
  // The window holds what is left: a cut's partial page costs budget that is there anyway, not time.
  const wanted = pagesLeft === null ? max : Math.max(1, Math.ceil(pagesLeft));
  const chains = clamp(Math.min(burstChains, wanted), 1, max);
  return {
    bound: burstChains < Math.min(max, wanted) ? 'burst' : 'latency',
    chains,
    slicePages: LATENCY_SLICE_PAGES,
    minPartPages: 1,
  };
}
