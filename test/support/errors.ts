/** The IngestError a call throws (anything else thrown is rethrown; no throw at all fails). */
import { IngestError } from '../../src/util/errors.js';

export function caught(fn: () => unknown): IngestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IngestError) return error;
    throw error;
  }
  throw new Error('expected an IngestError');
}
