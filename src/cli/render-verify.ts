import type { DayDifference, TableVerification, VerifyReport } from '../workflow/verify.js';
import { renderTable } from './render-table.js';

function differenceTable(differences: readonly DayDifference[]): string {
  return renderTable(
    ['day', 'metric', 'metric id', 'ours', 'klaviyo'],
    differences.map((d) => [
      d.day,
      d.metric,
      d.metricId,
      String(d.ours),
      d.klaviyo === null ? '(unknown)' : String(d.klaviyo),
    ]),
  );
}

function tableSection(t: TableVerification): string[] {
  const out: string[] = [];
  if (t.repair) {
    const r = t.repair;
    out.push(`\n${t.table}: ${r.found.length} (metric, day) pairs differed before the repair:`);
    out.push(differenceTable(r.found));
    out.push(
      `${t.table}: repair re-read ${r.days} (metric, day) pairs: ${r.read} events read, ` +
        `${r.inserted} rows added, ${r.duplicatesSkipped} already in the table`,
    );
  }
  if (t.differences.length > 0) {
    const what = t.repair ? 'still differ after the repair' : 'differ';
    out.push(`\n${t.table}: ${t.differences.length} (metric, day) pairs ${what}:`);
    out.push(differenceTable(t.differences));
  }
  return out;
}

/** Per table: the range checked, days checked and matching; then each differing day; then a summary. */
export function renderVerifyReport(report: VerifyReport): string {
  const rows = report.tables.map((t) => [
    t.table,
    t.status === 'checked' ? `${t.from} .. ${t.to}` : '(not loaded)',
    String(t.metrics),
    String(t.days),
    String(t.daysMatching),
    String(t.days - t.daysMatching),
  ]);
  const out = [renderTable(['table', 'range (UTC)', 'metrics', 'days', 'matching', 'differing'], rows)];
  for (const t of report.tables) out.push(...tableSection(t));
  const differing = report.days - report.daysMatching;
  out.push(
    `\nverify: ${report.days} days checked, ${report.daysMatching} match` +
      (differing === 0 ? ' — every day matches Klaviyo' : `, ${differing} differ`) +
      ` (${report.apiRequests} API requests, ${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return out.join('\n');
}
