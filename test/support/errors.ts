/** The IngestError a call throws or a promise rejects with (anything else is rethrown; none at all fails). */
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

/** The IngestError `promise` rejects with (another rejection is rethrown; fulfilment fails). */
export async function rejection(promise: Promise<unknown>): Promise<IngestError> {
  const error = await promise.then(
    () => {
      throw new Error('expected an IngestError');
    },
    (e: unknown) => e,
  );
  if (error instanceof IngestError) return error;
  throw error;
}
