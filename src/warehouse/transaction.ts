/**
 * The COMMIT statement itself failed in a way that does not say whether the server committed (the
 * connection was lost while it was under way): the load may or may not be in the table.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CommitOutcomeUnknown';
  }
}

export interface TransactionOptions {
  /** A ROLLBACK that failed too: the connection's state is unknown (the original error is thrown). */
  onRollbackFailed?: () => void;
  /** Whether a failed COMMIT leaves the outcome unknown (default: no, the transaction rolled back). */
  commitOutcomeUnknown?: (error: unknown) => boolean;
}

/**
 * `work` between BEGIN and COMMIT on one connection (`execute` runs a statement on it): committed when
 * it returns, rolled back when it throws. A COMMIT whose outcome cannot be known is thrown as
 * `CommitOutcomeUnknown`.
 */
export async function inTransaction<T>(
  execute: (sql: string) => Promise<unknown>,
  work: () => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  await execute('BEGIN');
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await execute('ROLLBACK').catch(options.onRollbackFailed ?? (() => undefined));
    throw error;
  }
  try {
    await execute('COMMIT');
  } catch (error) {
    if (options.commitOutcomeUnknown?.(error)) throw new CommitOutcomeUnknown(error);
    await execute('ROLLBACK').catch(options.onRollbackFailed ?? (() => undefined));
    throw error;
  }
  return result;
}
