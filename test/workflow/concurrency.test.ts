import { describe, expect, it } from 'vitest';
import { adaptiveConcurrency, fewestToKeepBusy, fixedConcurrency } from '../../src/workflow/concurrency.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 15));

describe('adaptive requests in flight', () => {
  it('starts at one and doubles up to the maximum while the event loop mostly waits and every slot is in use', async () => {
    const seen: number[] = [];
    const c = adaptiveConcurrency({ max: 6, saturated: () => true, sampleMs: 5, utilisation: () => 0.1 });
    c.onChange(() => seen.push(c.allowed()));
    expect(c.allowed()).toBe(1);
    while (c.allowed() < 6) await tick();
    c.stop();
    expect(seen).toEqual([2, 4, 6]);
  });

  it('does not grow while fewer requests run than allowed (waiting on the rate limiter or out of work)', async () => {
    const c = adaptiveConcurrency({ max: 8, saturated: () => false, sampleMs: 5, utilisation: () => 0.05 });
    await tick();
    await tick();
    expect(c.allowed()).toBe(1);
    c.stop();
  });

  it('adds one while the event loop is half idle', async () => {
    const seen: number[] = [];
    const c = adaptiveConcurrency({ max: 4, saturated: () => true, sampleMs: 5, utilisation: () => 0.4 });
    c.onChange(() => seen.push(c.allowed()));
    while (c.allowed() < 4) await tick();
    c.stop();
    expect(seen).toEqual([2, 3, 4]);
  });

  it('halves while the process is CPU-bound, never below one, and holds in between', async () => {
    let busy = 0.1;
    const c = adaptiveConcurrency({ max: 8, saturated: () => true, sampleMs: 5, utilisation: () => busy });
    while (c.allowed() < 8) await tick();
    busy = 0.97;
    const seen: number[] = [];
    c.onChange(() => seen.push(c.allowed()));
    while (c.allowed() > 1) await tick();
    await tick();
    expect(seen).toEqual([4, 2, 1]);
    busy = 0.75;
    await tick();
    await tick();
    expect(c.allowed()).toBe(1);
    c.stop();
  });

  it('while CPU-bound against a slow API, halves no lower than the requests that keep the CPU busy', async () => {
    let busy = 0.1;
    let pages = 0;
    const c = adaptiveConcurrency({
      max: 8,
      saturated: () => true,
      sampleMs: 5,
      utilisation: () => busy,
      pagesRead: () => pages,
      // Answers take far longer than a sample's CPU time per page: keep all 8.
      latencyMs: () => 10_000,
    });
    while (c.allowed() < 8) await tick();
    busy = 0.97;
    for (let i = 0; i < 4; i++) {
      pages += 1;
      await tick();
    }
    expect(c.allowed()).toBe(8);
    c.stop();
  });

  it('the requests that keep the CPU busy: latency over the CPU time of a page (Little)', () => {
    // 125 ms of CPU a page, answers in 500 ms: 4 on the way.
    expect(fewestToKeepBusy(125, 500)).toBe(4);
    // A local API: one.
    expect(fewestToKeepBusy(125, 5)).toBe(1);
    // Nothing known yet: one.
    expect(fewestToKeepBusy(null, 500)).toBe(1);
    expect(fewestToKeepBusy(125, null)).toBe(1);
  });

  it('a fixed limit (--concurrency) never changes', () => {
    const c = fixedConcurrency(3);
    expect(c.allowed()).toBe(3);
    c.stop();
  });
});
