import type { Command } from 'commander';
import { type Finding, type ValidationReport, validateProject } from '../../project/index.js';
import { IngestError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { setExitCode } from '../exit-code.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

function formatFinding(f: Finding): string {
  const where = f.line === undefined ? f.file : `${f.file}:${f.line}`;
  const key = f.key ? ` ${f.key}` : '';
  return `${f.severity} ${f.code} ${where}${key} — ${f.message} (fix: ${f.fix})`;
}

function formatSummary(dir: string, report: ValidationReport): string {
  const counts = `${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`;
  return report.ok ? `${dir}: valid (${counts})` : `${dir}: invalid (${counts})`;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description("check a project folder against the templates' rules")
    .argument('[dir]', 'project folder', DEFAULT_PROJECT_DIR)
    .option('--json', 'print the findings as JSON', false)
    .action((dir: string, opts: { json: boolean }) => {
      let report: ValidationReport;
      try {
        report = validateProject(dir);
      } catch (error) {
        if (!(error instanceof IngestError) || !opts.json) throw error;
        const finding = {
          code: error.code,
          severity: 'error',
          file: error.file ?? dir,
          message: error.message,
          fix: error.fix ?? '',
        };
        process.stdout.write(
          `${redact(JSON.stringify({ ok: false, errors: 1, warnings: 0, findings: [finding] }, null, 2))}\n`,
        );
        setExitCode(error.exitCode);
        return;
      }
      if (opts.json) {
        process.stdout.write(`${redact(JSON.stringify(report, null, 2))}\n`);
      } else {
        for (const finding of report.findings) process.stdout.write(`${redact(formatFinding(finding))}\n`);
        process.stdout.write(`${formatSummary(dir, report)}\n`);
      }
      if (!report.ok) setExitCode(1);
    });
}
