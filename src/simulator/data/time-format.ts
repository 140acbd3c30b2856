/** Datetimes as Klaviyo writes them in response bodies. */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export type TimeStyle = 'seconds' | 'micro' | 'space';

/**
 * `2025-09-03T10:11:12+00:00`; with `micro` a non-zero millisecond part is written as six digits
 * (`10:11:12.276000+00:00`); with `space` the separator is a space (`2025-09-03 10:11:12+00:00`).
 */
export function formatKlaviyoTime(epochMs: number, style: TimeStyle = 'seconds'): string {
  const d = new Date(epochMs);
  const sep = style === 'space' ? ' ' : 'T';
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${sep}${pad(
    d.getUTCHours(),
  )}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  const frac = ms !== 0 && style !== 'seconds' ? `.${pad(ms, 3)}000` : '';
  return `${base}${frac}+00:00`;
}
