type TypedArrayCtor<T> = { new (length: number): T };

/** An append-only typed array that doubles its buffer; values are read and written in place. */
export class Growable<T extends Float64Array | Uint32Array | Uint16Array> {
  private buf: T;
  private len = 0;

  constructor(
    private readonly ctor: TypedArrayCtor<T>,
    capacity = 16,
  ) {
    this.buf = new ctor(Math.max(16, capacity));
  }

  get length(): number {
    return this.len;
  }

  get(i: number): number {
    return this.buf[i] as number;
  }

  set(i: number, v: number): void {
    this.buf[i] = v;
  }

  push(v: number): void {
    if (this.len === this.buf.length) {
      const next = new this.ctor(this.buf.length * 2);
      (next as unknown as { set(a: ArrayLike<number>): void }).set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = v;
  }

  /** Last index with value <= v, +1 (values must be sorted ascending). */
  upperBound(v: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.buf[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export const f64 = (capacity?: number) => new Growable(Float64Array, capacity);
export const u32 = (capacity?: number) => new Growable(Uint32Array, capacity);
export const u16 = (capacity?: number) => new Growable(Uint16Array, capacity);
