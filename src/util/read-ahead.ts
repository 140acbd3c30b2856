/**
 * Iterates `source` with its next item already requested while the caller works on the current one,
 * so for pages the HTTP round trip overlaps parsing, flattening and appending instead of adding to
 * them. `wantNext(item)` says whether to ask early (false when the item shows no more are needed, e.g.
 * a page that already reaches past the slice's end); otherwise the next is asked for when the caller
 * resumes, as plain iteration would. At most one item is requested ahead.
 */
export async function* readAhead<T>(
  source: AsyncIterable<T>,
  wantNext: (item: T) => boolean,
): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | null = iterator.next();
  try {
    for (;;) {
      const result: IteratorResult<T> = await next;
      next = null;
      if (result.done) return;
      if (wantNext(result.value)) {
        next = iterator.next();
        // The caller may stop before it asks for this one: never an unhandled rejection.
        next.catch(() => undefined);
      }
      yield result.value;
      next ??= iterator.next();
    }
  } finally {
    // Stopped early (return or throw): let a request already on its way settle, then close the source.
    if (next) await next.catch(() => undefined);
    await iterator.return?.();
  }
}
