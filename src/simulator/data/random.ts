/** Stateless, index-addressable randomness: the same (seed, stream, index) always gives the same number. */

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 32-bit hash of a seed, a stream number and an index. */
export function hash32(seed: number, stream: number, index: number): number {
  return mix32(
    mix32(mix32(seed ^ 0x9e3779b9) ^ Math.imul(stream + 1, 0x85ebca6b)) ^
      (index >>> 0) ^
      Math.imul(Math.floor(index / 4294967296), 0xc2b2ae35),
  );
}

/** [0, 1) for (seed, stream, index). */
export function rand(seed: number, stream: number, index: number): number {
  return hash32(seed, stream, index) / 4294967296;
}

export function pick<T>(items: readonly T[], r: number): T {
  return items[Math.min(items.length - 1, Math.floor(r * items.length))] as T;
}

/** A sequential PRNG (mulberry32) for generation passes that run in order. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
}
