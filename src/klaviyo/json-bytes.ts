/**
 * `JSON.parse` of a response body given as UTF-8 bytes, without first turning the whole body into one
 * string. A 1,000-event page is ~1 MB; as one string it costs a large-object allocation (two bytes per
 * character once any character is non-ASCII) that V8 decodes with its slow path, page-faults into and
 * soon frees again. Measured on a simulator page of 1,000 events (1.1 MB, 3.5k non-ASCII bytes):
 * decode + `JSON.parse` 12.9 µs per event, this 6.8 µs, of which the scan below is 2.3 µs.
 *
 * A top-level object is taken apart here: each member's value, and each element of a member that is an
 * array (a JSON:API document's `data` and `included`), is decoded and parsed on its own, as a small
 * string. Everything else, and anything this scan does not expect, goes to `JSON.parse` of the whole
 * text, which gives the same result or throws the same `SyntaxError` as ever.
 *
 * `parseJsonApiBytes` also leaves out the `links` of each resource and of its relationships: URLs
 * (`self`, `related`) that nothing here follows, yet about half of an event page's bytes. They are cut
 * from each resource's bytes during the same scan, so they are never decoded, parsed or kept in memory:
 * parsing a 1,000-event page (1.15 MB, 0.61 MB without them) went from 7.3 to 6.5 µs of CPU per event.
 *
 * With `rawJsonAttributes`, each object or array value among a resource's `attributes` (an event's
 * `event_properties`) is checked here to be valid JSON and kept as its bytes (`RawJson`): a caller that
 * stores it as a JSON column needs neither the objects `JSON.parse` would build nor the text
 * `JSON.stringify` would write back. The resource is parsed with `{}` or `[]` in its place.
 */
import { isUtf8 } from 'node:buffer';
import { RawJson } from '../util/raw-json.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** What `JSON.parse(bytes.toString('utf8'))` returns; throws its `SyntaxError` on invalid JSON. */
export function parseJsonBytes(bytes: Buffer): unknown {
  return parseTopLevelObject(bytes, false) ?? JSON.parse(bytes.toString('utf8'));
}

export interface JsonApiParseOptions {
  /** Object and array attribute values of the resources in `data` and `included` come as `RawJson`. */
  rawJsonAttributes?: boolean | undefined;
}

/**
 * As `parseJsonBytes`, for a JSON:API document: the resources of `data` and `included`, and their
 * relationships, come without their `links` (see above). Throws `JSON.parse`'s `SyntaxError`. A body
 * the scan does not take apart (or not valid UTF-8) is parsed whole, without `RawJson` values.
 */
export function parseJsonApiBytes(bytes: Buffer, options: JsonApiParseOptions = {}): unknown {
  rawAttributes = options.rawJsonAttributes === true && isUtf8(bytes);
  let scanned: Record<string, unknown> | null;
  try {
    scanned = parseTopLevelObject(bytes, true);
    if (scanned !== null) placeRawAttributes();
  } finally {
    rawAttributes = false;
    pageRaws.length = 0;
    rawBytes = 0;
    if (rawText.length > RAW_TEXT_KEPT_MAX) rawText = Buffer.allocUnsafe(RAW_TEXT_START);
  }
  if (scanned !== null) return scanned;
  const whole: unknown = JSON.parse(bytes.toString('utf8'));
  if (isObject(whole)) {
    forEachResource(whole.data, dropLinks);
    forEachResource(whole.included, dropLinks);
  }
  return whole;
}

/** Byte ranges [from, to) cut from the resource being scanned; reused for every resource. */
const cuts: number[] = [];
/** Whether this parse keeps object and array attributes as `RawJson`. */
let rawAttributes = false;
/** Per such attribute of the resource being scanned: its key's and its value's byte ranges (4 numbers). */
const raws: number[] = [];
/**
 * The page's such attributes, until the page is parsed: their text is gathered in `rawText` and then
 * copied into one buffer for the page (one allocation, not one per value), which they all refer to.
 */
const pageRaws: { attributes: Record<string, unknown>; key: string; at: number; length: number }[] = [];
const RAW_TEXT_START = 256 * 1024;
const RAW_TEXT_KEPT_MAX = 4 * 1024 * 1024;
let rawText = Buffer.allocUnsafe(RAW_TEXT_START);
let rawBytes = 0;
/** Where a resource's bytes are joined without its cuts; grown when a resource is larger, up to a cap. */
let joined = Buffer.allocUnsafe(64 * 1024);
/** A larger resource (a template's HTML) gets a buffer of its own, so one does not stay held for good. */
const JOINED_KEPT_MAX = 1024 * 1024;

/**
 * The object the bytes hold, or null when they are not one this scan takes apart (see above). With
 * `resources`, the elements of `data` and `included` are parsed without their links.
 */
function parseTopLevelObject(bytes: Buffer, resources: boolean): Record<string, unknown> | null {
  const end = bytes.length;
  let at = skipWhitespace(bytes, 0);
  if (bytes[at] !== OPEN_BRACE) return null;
  const out: Record<string, unknown> = {};
  at = skipWhitespace(bytes, at + 1);
  if (bytes[at] === CLOSE_BRACE) return skipWhitespace(bytes, at + 1) === end ? out : null;
  try {
    for (;;) {
      if (bytes[at] !== QUOTE) return null;
      const keyEnd = valueEnd(bytes, at);
      if (keyEnd < 0) return null;
      const key = JSON.parse(bytes.toString('utf8', at, keyEnd)) as string;
      // An own `__proto__` member is what JSON.parse makes; assigning one would set the prototype.
      if (key === '__proto__') return null;
      at = skipWhitespace(bytes, keyEnd);
      if (bytes[at] !== COLON) return null;
      at = skipWhitespace(bytes, at + 1);
      if (bytes[at] === OPEN_BRACKET) {
        const elements: unknown[] = [];
        const areResources = resources && (key === 'data' || key === 'included');
        at = skipWhitespace(bytes, at + 1);
        if (bytes[at] !== CLOSE_BRACKET) {
          for (;;) {
            cuts.length = 0;
            raws.length = 0;
            const elementEnd =
              areResources && bytes[at] === OPEN_BRACE
                ? membersEnd(bytes, at, RESOURCE)
                : valueEnd(bytes, at);
            if (elementEnd < 0) return null;
            const element: unknown = JSON.parse(textWithoutCuts(bytes, at, elementEnd));
            if (raws.length > 0 && !attachRawAttributes(element, bytes)) return null;
            elements.push(element);
            at = skipWhitespace(bytes, elementEnd);
            if (bytes[at] === COMMA) {
              at = skipWhitespace(bytes, at + 1);
              continue;
            }
            if (bytes[at] === CLOSE_BRACKET) break;
            return null;
          }
        }
        out[key] = elements;
        at = skipWhitespace(bytes, at + 1);
      } else {
        const memberEnd = valueEnd(bytes, at);
        if (memberEnd < 0) return null;
        const value: unknown = JSON.parse(bytes.toString('utf8', at, memberEnd));
        // A single resource (`data` of a GET by id) is rare and small: its links go after parsing.
        if (resources && (key === 'data' || key === 'included')) forEachResource(value, dropLinks);
        out[key] = value;
        at = skipWhitespace(bytes, memberEnd);
      }
      if (bytes[at] === COMMA) {
        at = skipWhitespace(bytes, at + 1);
        continue;
      }
      if (bytes[at] === CLOSE_BRACE) return skipWhitespace(bytes, at + 1) === end ? out : null;
      return null;
    }
  } catch {
    // A piece that does not parse: the whole text's JSON.parse reports it as it always has.
    return null;
  }
}

/**
 * Where the scan stands inside a resource: the resource, its `relationships`, one relationship, or
 * its `attributes`.
 */
const RESOURCE = 0;
const RELATIONSHIPS = 1;
const RELATIONSHIP = 2;
const ATTRIBUTES = 3;

/**
 * Where the object starting at `at` (an opening brace) ends (exclusive), or -1 when it is not laid out
 * as expected. On the way, the `links` members of a resource and of each of its relationships are
 * added to `cuts`, each with one of its commas so that what is left stays valid JSON; with
 * `rawAttributes`, the insides of object and array attributes too, once checked (added to `raws`).
 */
function membersEnd(bytes: Buffer, at: number, level: number): number {
  let i = skipWhitespace(bytes, at + 1);
  if (bytes[i] === CLOSE_BRACE) return i + 1;
  // Until a member is kept, a cut member takes the comma after it; from then on, the one before it.
  let keptOne = false;
  let previousEnd = at + 1;
  for (;;) {
    if (bytes[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = valueEnd(bytes, i);
    if (keyEnd < 0) return -1;
    i = skipWhitespace(bytes, keyEnd);
    if (bytes[i] !== COLON) return -1;
    i = skipWhitespace(bytes, i + 1);
    const cut = (level === RESOURCE || level === RELATIONSHIP) && isKey(bytes, keyStart, keyEnd, LINKS_KEY);
    const first = bytes[i];
    let end: number;
    if (first === OPEN_BRACE && level === RESOURCE && isKey(bytes, keyStart, keyEnd, RELATIONSHIPS_KEY))
      end = membersEnd(bytes, i, RELATIONSHIPS);
    else if (first === OPEN_BRACE && level === RELATIONSHIPS) end = membersEnd(bytes, i, RELATIONSHIP);
    else if (
      first === OPEN_BRACE &&
      level === RESOURCE &&
      rawAttributes &&
      isKey(bytes, keyStart, keyEnd, ATTRIBUTES_KEY)
    )
      end = membersEnd(bytes, i, ATTRIBUTES);
    else if ((first === OPEN_BRACE || first === OPEN_BRACKET) && level === ATTRIBUTES) {
      end = validValueEnd(bytes, i);
      if (end < 0) return -1;
      raws.push(keyStart, keyEnd, i, end);
      // `{}` or `[]` stays in its place, so the attribute keeps its position among the others.
      if (end - i > 2) cuts.push(i + 1, end - 1);
    } else end = valueEnd(bytes, i);
    if (end < 0) return -1;
    const after = skipWhitespace(bytes, end);
    const more = bytes[after] === COMMA;
    if (!cut) keptOne = true;
    else if (keptOne) cuts.push(previousEnd, end);
    else cuts.push(keyStart, more ? skipWhitespace(bytes, after + 1) : end);
    previousEnd = end;
    if (more) {
      i = skipWhitespace(bytes, after + 1);
      continue;
    }
    return bytes[after] === CLOSE_BRACE ? after + 1 : -1;
  }
}

const LINKS_KEY = Buffer.from('"links"');
const RELATIONSHIPS_KEY = Buffer.from('"relationships"');
const ATTRIBUTES_KEY = Buffer.from('"attributes"');

/**
 * Keeps the text of each attribute in `raws` for `placeRawAttributes`; false when the page must be
 * parsed whole instead (a `__proto__` key).
 */
function attachRawAttributes(resource: unknown, bytes: Buffer): boolean {
  const attributes = isObject(resource) ? resource.attributes : undefined;
  if (!isObject(attributes)) return false;
  for (let k = 0; k < raws.length; k += 4) {
    const key = keyText(bytes, raws[k]!, raws[k + 1]!);
    if (key === '__proto__') return false;
    const length = raws[k + 3]! - raws[k + 2]!;
    if (rawBytes + length > rawText.length) {
      const larger = Buffer.allocUnsafe(Math.max(2 * rawText.length, rawBytes + length));
      rawText.copy(larger, 0, 0, rawBytes);
      rawText = larger;
    }
    bytes.copy(rawText, rawBytes, raws[k + 2], raws[k + 3]);
    pageRaws.push({ attributes, key, at: rawBytes, length });
    rawBytes += length;
  }
  return true;
}

/**
 * Puts the page's kept attributes into their resources as `RawJson`, all in one buffer. Of same-named
 * members the last one wins, as in JSON.parse: a value is only replaced while it is still an object or
 * array (its `{}`/`[]` or an earlier RawJson).
 */
function placeRawAttributes(): void {
  if (pageRaws.length === 0) return;
  const page = Buffer.allocUnsafeSlow(rawBytes);
  rawText.copy(page, 0, 0, rawBytes);
  for (const { attributes, key, at, length } of pageRaws) {
    const current = attributes[key];
    if (typeof current === 'object' && current !== null) attributes[key] = new RawJson(page, at, length);
  }
}

/** The text of the key at [start, end), quotes included. */
function keyText(bytes: Buffer, start: number, end: number): string {
  for (let i = start + 1; i < end - 1; i++)
    if (bytes[i] === BACKSLASH) return JSON.parse(bytes.toString('utf8', start, end)) as string;
  return bytes.toString('utf8', start + 1, end - 1);
}

/** Whether the key at [start, end) is spelled exactly as `key` (quotes included). */
function isKey(bytes: Buffer, start: number, end: number, key: Buffer): boolean {
  if (end - start !== key.length) return false;
  for (let k = 1; k < key.length - 1; k++) if (bytes[start + k] !== key[k]) return false;
  return true;
}

/** The text of [start, end) without the ranges in `cuts`. */
function textWithoutCuts(bytes: Buffer, start: number, end: number): string {
  if (cuts.length === 0) return bytes.toString('utf8', start, end);
  let target = joined;
  if (target.length < end - start) {
    target = Buffer.allocUnsafe(end - start);
    if (target.length <= JOINED_KEPT_MAX) joined = target;
  }
  let length = 0;
  let from = start;
  for (let k = 0; k < cuts.length; k += 2) {
    length += bytes.copy(target, length, from, cuts[k]);
    from = cuts[k + 1]!;
  }
  length += bytes.copy(target, length, from, end);
  return target.toString('utf8', 0, length);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function forEachResource(value: unknown, each: (resource: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) if (isObject(item)) each(item);
  } else if (isObject(value)) each(value);
}

/** What the scan cuts, for a resource parsed whole. */
function dropLinks(resource: Record<string, unknown>): void {
  delete resource.links;
  const relationships = resource.relationships;
  if (isObject(relationships))
    for (const relationship of Object.values(relationships))
      if (isObject(relationship)) delete relationship.links;
}

/**
 * Where the value starting at `at` ends (exclusive), or -1 when the bytes end first. Only the nesting
 * is followed here; a value's own validity is `JSON.parse`'s to check.
 */
function valueEnd(bytes: Buffer, at: number): number {
  const end = bytes.length;
  let i = at;
  const first = bytes[i];
  if (first === QUOTE) return stringEnd(bytes, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (; i < end; i++) {
      const byte = bytes[i];
      if (byte === QUOTE) {
        const after = stringEnd(bytes, i);
        if (after < 0) return -1;
        i = after - 1;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return i + 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  for (; i < end; i++) {
    const byte = bytes[i];
    if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isWhitespace(byte!)) return i;
  }
  return i === at ? -1 : i;
}

/**
 * Where the JSON value starting at `at` ends (exclusive), or -1 when it is not one valid value as
 * RFC 8259 (and JSON.parse) defines it: a `RawJson` is never parsed, so it is checked here.
 */
function validValueEnd(bytes: Buffer, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return validStringEnd(bytes, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    const close = first === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
    let i = skipWhitespace(bytes, at + 1);
    if (bytes[i] === close) return i + 1;
    for (;;) {
      if (first === OPEN_BRACE) {
        if (bytes[i] !== QUOTE) return -1;
        i = skipWhitespace(bytes, validStringEnd(bytes, i));
        if (bytes[i] !== COLON) return -1;
        i = skipWhitespace(bytes, i + 1);
      }
      i = validValueEnd(bytes, i);
      if (i < 0) return -1;
      i = skipWhitespace(bytes, i);
      if (bytes[i] === COMMA) i = skipWhitespace(bytes, i + 1);
      else return bytes[i] === close ? i + 1 : -1;
    }
  }
  for (const literal of LITERALS) if (isLiteral(bytes, at, literal)) return at + literal.length;
  return validNumberEnd(bytes, at);
}

const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];

function isLiteral(bytes: Buffer, at: number, literal: Buffer): boolean {
  for (let k = 0; k < literal.length; k++) if (bytes[at + k] !== literal[k]) return false;
  return true;
}

/** The end of the string at `at` (a quote), or -1: no raw control characters, only JSON's escapes. */
function validStringEnd(bytes: Buffer, at: number): number {
  for (let i = at + 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte < 0x20) return -1;
    if (byte !== BACKSLASH) continue;
    const escaped = bytes[++i];
    if (escaped === 0x75) {
      for (let k = 1; k <= 4; k++) if (!isHexDigit(bytes[i + k])) return -1;
      i += 4;
    } else if (escaped === undefined || !SIMPLE_ESCAPES.has(escaped)) return -1;
  }
  return -1;
}

/** `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t` after a backslash. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isHexDigit(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}

/** The end of the number at `at`: `-`? (`0` | [1-9][0-9]*) (`.` [0-9]+)? ([eE] [+-]? [0-9]+)?, or -1. */
function validNumberEnd(bytes: Buffer, at: number): number {
  let i = at;
  if (bytes[i] === 0x2d) i++;
  if (bytes[i] === 0x30) i++;
  else if (isDigit(bytes[i])) i = digitsEnd(bytes, i);
  else return -1;
  if (bytes[i] === 0x2e) {
    if (!isDigit(bytes[i + 1])) return -1;
    i = digitsEnd(bytes, i + 1);
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
    if (!isDigit(bytes[i])) return -1;
    i = digitsEnd(bytes, i);
  }
  return i;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function digitsEnd(bytes: Buffer, at: number): number {
  let i = at;
  while (isDigit(bytes[i])) i++;
  return i;
}

/** Bytes of a string walked one by one before the rest is searched natively (keys and ids end sooner). */
const SHORT_STRING = 32;

/**
 * Where the string whose opening quote is at `at` ends (after its closing quote), or -1. Inside a
 * string every quote is escaped, so a quote after an odd run of backslashes does not end it. Long
 * strings (the `links` URLs, text) are searched with `indexOf`, a native `memchr`.
 */
function stringEnd(bytes: Buffer, at: number): number {
  const end = bytes.length;
  const walked = Math.min(end, at + SHORT_STRING);
  let i = at + 1;
  for (; i < walked; i++) {
    const byte = bytes[i];
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i + 1;
  }
  // `i` is where a character starts (never the middle of an escape), so a run of backslashes just
  // before a quote is counted from there at the furthest.
  while (i < end) {
    const quote = bytes.indexOf(QUOTE, i);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (quote - backslashes - 1 >= i && bytes[quote - backslashes - 1] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
  return -1;
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipWhitespace(bytes: Buffer, at: number): number {
  let i = at;
  while (i < bytes.length && isWhitespace(bytes[i]!)) i++;
  return i;
}
