import type { RunReport } from '../workflow/types.js';
import { renderTable } from './render-table.js';

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
  const out = [renderTable(header, rows)];
  for (const source of report.sources) {
    if (source.error) out.push(`\n${source.name} (${source.table}) failed: ${source.error}`);
    if (source.markedDeleted)
      out.push(`${source.name}: ${source.markedDeleted} rows no longer in Klaviyo, marked in _deleted_at`);
    for (const request of source.requests ?? []) out.push(`${source.name}: GET ${request}`);
    for (const [name, value] of Object.entries(source.requestHeaders ?? {})) out.push(`  ${name}: ${value}`);
  }
  for (const source of report.sources) {
    for (const gap of source.gaps ?? []) {
      out.push(
        `\nwarning: ${source.table}: ${gap.start} .. ${gap.end} was never loaded, and runs resume from the ` +
          `table's max, so none will load it. Back-fill it once with:\n  ${gap.command ?? ''}`,
      );
    }
  }
  const failed = report.sources.filter((s) => s.status === 'ERROR').length;
  out.push(
    `\n${report.workflow}: ${report.sources.length - failed} of ${report.sources.length} sources ok` +
      ` in ${(report.durationMs / 1000).toFixed(1)} s${failed ? ` — ${failed} failed` : ''}`,
  );
  return out.join('\n');
}
