import type { RunReport } from '../workflow/types.js';

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** A per-source table: status, table, window, rows, duplicates skipped, pages, duration. */
export function renderRunReport(report: RunReport): string {
  const header = [
    'source',
    'table',
    'status',
    'window start',
    'window end',
    'rows',
    'dups skipped',
    'pages',
    'seconds',
  ];
  const rows = report.sources.map((s) => [
    s.name,
    s.table,
    s.status,
    s.startTime || '(full load)',
    s.endTime,
    String(s.records),
    String(s.duplicatesSkipped),
    String(s.pages),
    (s.durationMs / 1000).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const source of report.sources) {
    if (source.error) out.push(`\n${source.name} (${source.table}) failed: ${source.error}`);
    for (const request of source.requests ?? []) out.push(`${source.name}: GET ${request}`);
  }
  const failed = report.sources.filter((s) => s.status === 'ERROR').length;
  out.push(
    `\n${report.workflow}: ${report.sources.length - failed} of ${report.sources.length} sources ok` +
      ` in ${(report.durationMs / 1000).toFixed(1)} s${failed ? ` — ${failed} failed` : ''}`,
  );
  return out.join('\n');
}
