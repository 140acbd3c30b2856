import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/util/read-ahead.js';

/** A source that logs when each item is asked for and when it is closed. */
function source(items: number[], log: string[], failAt?: number) {
  return (async function* () {
    try {
      for (const item of items) {
        log.push(`ask ${item}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (item === failAt) throw new Error(`failed at ${item}`);
        yield item;
      }
    } finally {
      log.push('closed');
    }
  })();
}

describe('readAhead', () => {
  it('asks for the next item before the caller has finished with the current one', async () => {
    const log: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], log), () => true)) log.push(`use ${item}`);
    // Asking past the last item ends the source before the caller uses the last one.
    expect(log).toEqual(['ask 1', 'ask 2', 'use 1', 'ask 3', 'use 2', 'closed', 'use 3']);
  });

  it('waits for the caller when wantNext says no more are needed', async () => {
    const log: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], log), (item) => item !== 2)) log.push(`use ${item}`);
    expect(log).toEqual(['ask 1', 'ask 2', 'use 1', 'use 2', 'ask 3', 'closed', 'use 3']);
  });

  it('a caller that stops early lets the request on its way settle and closes the source', async () => {
    const log: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], log), () => true)) {
      log.push(`use ${item}`);
      break;
    }
    expect(log).toEqual(['ask 1', 'ask 2', 'use 1', 'closed']);
  });

  it('a failure of an item asked for early reaches the caller when it gets there, and not before', async () => {
    const log: string[] = [];
    const used: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(source([1, 2, 3], log, 2), () => true)) used.push(item);
      })(),
    ).rejects.toThrow('failed at 2');
    expect(used).toEqual([1]);
    // Stopping before reaching it: the early failure is dropped, never an unhandled rejection.
    const again: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], again, 2), () => true)) {
      if (item === 1) break;
    }
    expect(again).toEqual(['ask 1', 'ask 2', 'closed']);
  });
});
