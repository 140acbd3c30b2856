/** Klaviyo API revisions (the `revision` header, `YYYY-MM-DD`) as the client and the sources use them. */

/** The newest revision we know and default to; the templates' 2023-02-22 is retired. */
export const DEFAULT_REVISION = '2026-07-15';

/** Whether `revision` is `since` or newer (a `.pre` suffix is ignored). */
export function revisionAtLeast(revision: string, since: string): boolean {
  return revision.slice(0, 10) >= since;
}

/** Revisions Klaviyo has retired (2 years after release): sent as given, with a warning. */
export function isRetiredRevision(revision: string, todayIso: string): boolean {
  const released = Date.parse(`${revision.slice(0, 10)}T00:00:00Z`);
  const today = Date.parse(`${todayIso.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(released) || Number.isNaN(today)) return false;
  return today - released > 2 * 365.25 * 24 * 3600 * 1000;
}
