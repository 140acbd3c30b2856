/** Lets tasks wait until something changed: `await signal.changed()` resolves at the next `notify()`. */
export class ChangeSignal {
  private wake: () => void = () => undefined;
  private next: Promise<void> = this.fresh();

  private fresh(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  changed(): Promise<void> {
    return this.next;
  }

  notify(): void {
    const wake = this.wake;
    this.next = this.fresh();
    wake();
  }
}
