import { hash32 } from './random.js';

/** ASCII-ordered alphabet, so fixed-width encodings sort like the numbers they encode. */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base62(n: number, width: number): string {
  let out = '';
  let v = Math.floor(n);
  for (let i = 0; i < width; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/** Random alphanumeric string of `length` chars from (seed, stream, index). */
export function randomAlnum(seed: number, stream: number, index: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[hash32(seed, stream * 64 + i, index) % 62];
  return out;
}

/** A ULID (26 chars, Crockford base32) whose time part is `timeMs`. */
export function ulid(timeMs: number, seed: number, stream: number, index: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(timeMs));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rest = '';
  for (let i = 0; i < 16; i++) rest += CROCKFORD[hash32(seed, stream * 64 + i, index) % 32];
  return time + rest;
}

/**
 * Event ids: 11 chars, the first 7 encode the index (so id order = index order = time order),
 * the last 4 are random-looking. Starts with a digit 3..9 like real ones (`4vGfpcpPRGL`).
 */
export function eventId(index: number, seed: number): string {
  return base62(index * 9973 + 4 * 62 ** 6, 7) + randomAlnum(seed, 901, index, 4);
}

/** A version-1-style UUID derived from a time (as Klaviyo event uuids are). */
export function timeUuid(timeMs: number, seed: number, index: number): string {
  const t = BigInt(Math.floor(timeMs)) * 10000n + 0x01b21dd213814000n;
  const hex = (v: bigint, w: number) => v.toString(16).padStart(w, '0');
  const low = hex(t & 0xffffffffn, 8);
  const mid = hex((t >> 32n) & 0xffffn, 4);
  const hi = hex(((t >> 48n) & 0x0fffn) | 0x1000n, 4);
  const node =
    hash32(seed, 902, index).toString(16).padStart(8, '0') +
    (hash32(seed, 903, index) & 0xffff).toString(16).padStart(4, '0');
  return `${low}-${mid}-${hi}-8001-${node}`;
}
