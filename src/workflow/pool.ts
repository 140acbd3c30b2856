/**
 * Runs `task` for every item with at most `limit` in flight: a rolling pool (a slot frees as soon as
 * one task ends), unlike Digdag's fixed batches. Results keep the items' order; a failing task does
 * not stop the others (each task reports its own failure).
 */
export async function runPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}
