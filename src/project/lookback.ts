/** `lookback:` of a datasource (beyond the templates): how far before the table's max a run re-reads. */
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const LOOKBACK_FORMAT = 'a whole number and a unit: 90s, 30m, 12h or 7d';

/** `7d` / `12h` / `30m` / `90s` -> ms; absent or empty -> 0; anything else -> null. */
export function parseLookback(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return 0;
  const match = /^(\d+)\s*([smhd])$/.exec(String(value).trim());
  return match ? Number(match[1]) * (UNITS[match[2] as string] as number) : null;
}
