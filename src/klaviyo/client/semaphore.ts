/**
 * The client's cap on its own requests in flight (`maxConcurrency`): at most `max` holders at once,
 * the rest wait in call order. A waiter whose signal aborts leaves the queue with the signal's reason.
 */
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(grant);
    });
  }
  /** Hands the slot straight to the next waiter, if any. */
  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}
