/**
 * glibc's malloc settings that bench scenario 3 measures as a deployment option. They only take
 * effect when the process starts with them (glibc reads them once), so the engine cannot set them for
 * itself. A fixed mmap threshold keeps glibc from raising it after large frees, which otherwise moves
 * 64 KB+ blocks (response buffers, native temporaries) into its heaps, where freed space stays
 * resident. Measured on 5,000,000 uncached events (A/B, one run each): peak RSS 364 -> 291 MB,
 * median 264 -> 208 MB, rows/s unchanged, ~10% more CPU; in the full bench 363 -> 299 MB at 9% fewer
 * rows/s. MALLOC_ARENA_MAX=2 alone: 305 / 227 MB; together with these: 311 / 208 MB.
 */
export const GLIBC_MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** Whether this Node runs on glibc (the settings mean nothing to musl or other systems). */
export function isGlibc(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return process.platform === 'linux' && Boolean(report.header?.glibcVersionRuntime);
}
