import { epochFromParts } from '../../util/timestamps.js';

/**
 * Datetime literals accepted in filters (unquoted): bare date, `T` or space separator, optional seconds,
 * fractions up to 6 digits, `Z` or `±HH:MM` / `±HHMM` offsets. A naive value is read as UTC. Letters must
 * be uppercase. Returns epoch ms (fractions beyond ms truncated) or null.
 */
const FILTER_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseFilterDatetime(text: string): number | null {
  const m = FILTER_DATETIME.exec(text);
  return m ? epochFromParts(m, 59) : null;
}
