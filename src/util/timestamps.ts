/**
 * Timestamps as Klaviyo and the templates write them.
 *
 * - The templates' window format is `YYYY-MM-DDTHH:MM:SS.000000`: UTC, whole seconds, six zero
 *   decimals, `T`, no zone suffix (TD_TIME_STRING(..., 's!') + '.000000').
 * - Klaviyo writes `2025-09-03T10:11:12+00:00`, sometimes with a space separator or fractions;
 *   filters accept `Z`, offsets, fractions, bare dates. We parse all of them leniently,
 *   reading a naive value as UTC (as TD_TIME_PARSE does with the workflow's `timezone: UTC`).
 */

const LENIENT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

const UTC_SUFFIX = /^(?:\.\d{1,9})?(?:Z|\+00:00)$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The shape Klaviyo writes on every record (`2025-09-03T10:11:12+00:00`, maybe with a fraction or
 * `Z`): read with the engine's ISO parser after a cheap shape check. This runs once per record.
 */
function parseUtcIso(text: string): number | null {
  if (text.length < 20 || text.charCodeAt(10) !== 84 /* T */ || !UTC_SUFFIX.test(text.slice(19))) return null;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  const hour = Number(text.slice(11, 13));
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** Parse a Klaviyo/template timestamp to epoch milliseconds (fractions beyond ms dropped); null if not a timestamp. */
export function parseTimestamp(text: string): number | null {
  const fast = parseUtcIso(text);
  if (fast !== null) return fast;
  const m = LENIENT.exec(text.trim());
  return m ? epochFromParts(m, 60) : null;
}

/**
 * Epoch ms from a datetime regex match whose groups 1-8 are year, month, day, hour, minute, second,
 * fraction and zone (`Z`, `z`, `UTC`, `±HH`, `±HHMM`, `±HH:MM`; none means UTC). Null for values out of
 * range or dates that roll over (2025-02-30). A leap second (60) is accepted only when `maxSecond` is 60.
 */
export function epochFromParts(m: RegExpExecArray, maxSecond: 59 | 60): number | null {
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > maxSecond)
    return null;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let epoch = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  if (new Date(epoch).getUTCDate() !== day && second < 60) return null;
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return null;
    epoch -= sign * (offH * 60 + offM) * 60_000;
  }
  return epoch;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function isoSeconds(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

/** `YYYY-MM-DDTHH:MM:SS.000000`, cut (not rounded) to whole seconds, in UTC. */
export function formatTemplateTime(epochMs: number): string {
  return `${isoSeconds(Math.floor(epochMs / 1000) * 1000)}.000000`;
}

/** The strict template format: 6 decimals, `T`, no zone. */
const TEMPLATE_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

export function isTemplateTime(text: string): boolean {
  return TEMPLATE_TIME_PATTERN.test(text) && parseTimestamp(text) !== null;
}

/** A datetime for a Klaviyo filter: RFC 3339 with `Z`, milliseconds only when needed. */
export function formatFilterTime(epochMs: number): string {
  const ms = epochMs % 1000;
  const base = isoSeconds(epochMs - (((ms % 1000) + 1000) % 1000));
  return ms === 0 ? `${base}Z` : `${base}.${pad(((ms % 1000) + 1000) % 1000, 3)}Z`;
}
