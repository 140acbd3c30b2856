/**
 * `work` between BEGIN and COMMIT on one connection (`execute` runs a statement on it): committed when
 * it returns, rolled back when it throws. `onRollbackFailed` hears of a ROLLBACK that failed too (the
 * connection's state is then unknown); the original error is thrown either way.
 */
export async function inTransaction<T>(
  execute: (sql: string) => Promise<unknown>,
  work: () => Promise<T>,
  onRollbackFailed: () => void = () => undefined,
): Promise<T> {
  await execute('BEGIN');
  try {
    const result = await work();
    await execute('COMMIT');
    return result;
  } catch (error) {
    await execute('ROLLBACK').catch(onRollbackFailed);
    throw error;
  }
}
