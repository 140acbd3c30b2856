/**
 * Datetime literals accepted in filters (unquoted): bare date, `T` or space separator, optional seconds,
 * fractions up to 6 digits, `Z` or `±HH:MM` / `±HHMM` offsets. A naive value is read as UTC. Letters must
 * be uppercase. Returns epoch ms (fractions beyond ms truncated) or null.
 */
const FILTER_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseFilterDatetime(text: string): number | null {
  const m = FILTER_DATETIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  let epoch = Date.UTC(
    Number(y),
    month - 1,
    day,
    hour,
    minute,
    second,
    frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0,
  );
  if (new Date(epoch).getUTCDate() !== day) return null;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = Number(digits.slice(2, 4));
    if (offH > 23 || offM > 59) return null;
    epoch -= sign * (offH * 60 + offM) * 60_000;
  }
  return epoch;
}
