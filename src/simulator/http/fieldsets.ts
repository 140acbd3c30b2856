/** Keeps only the requested (possibly dotted) attribute paths: `location.city` keeps `{location: {city}}`. */
export function pickPaths(attributes: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    if (path === 'id') continue;
    const parts = path.split('.');
    let src: unknown = attributes;
    for (const p of parts) {
      src =
        src && typeof src === 'object' && !Array.isArray(src)
          ? (src as Record<string, unknown>)[p]
          : undefined;
    }
    if (src === undefined) continue;
    let dst = out;
    parts.forEach((p, k) => {
      if (k === parts.length - 1) dst[p] = src;
      else {
        const next = dst[p];
        if (!next || typeof next !== 'object') dst[p] = {};
        dst = dst[p] as Record<string, unknown>;
      }
    });
  }
  return out;
}
