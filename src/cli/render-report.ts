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
    if (source.error && source.status === 'SKIPPED')
      out.push(`\n${source.name} (${source.table}): ${source.error}`);
    else if (source.error) out.push(`\n${source.name} (${source.table}) failed: ${source.error}`);
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
  for (const table of report.interrupted ?? []) {
    out.push(
      `\n${table}: its previous run never finished (killed); logged as interrupted, resumed by this run`,
    );
  }
  const failed = report.sources.filter((s) => s.status === 'ERROR').length;
  const skipped = report.sources.filter((s) => s.status === 'SKIPPED').length;
  const ok = report.sources.length - failed - skipped;
  out.push(
    `\n${report.workflow}: ${ok} of ${report.sources.length} sources ok` +
      ` in ${(report.durationMs / 1000).toFixed(1)} s${failed ? ` — ${failed} failed` : ''}` +
      `${skipped ? ` — ${skipped} not started` : ''}${report.stoppedBy ? ` (stopped: ${report.stoppedBy})` : ''}`,
  );
  return out.join('\n');
}

/** After a signal: what each source committed, and that a rerun resumes from there. */
export function renderStopSummary(report: RunReport, signal: string): string {
  const lines = [`Stopped by ${signal}. What each table holds now:`];
  for (const s of report.sources) {
    if (s.status === 'SUCCESS') lines.push(`  ${s.table}: loaded in full (${s.records} rows, SUCCESS)`);
    else if (s.status === 'SKIPPED') lines.push(`  ${s.table}: not started`);
    else if (s.committed)
      lines.push(
        `  ${s.table}: ${s.committed} rows committed${s.committedUpTo ? `, up to ${s.committedUpTo}` : ''}; the rest was rolled back`,
      );
    else lines.push(`  ${s.table}: nothing committed; staged rows were rolled back`);
  }
  lines.push('Run the same command again: each table resumes from what it committed (exactly once).');
  return lines.join('\n');
}
