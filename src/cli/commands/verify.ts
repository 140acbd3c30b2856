import type { Command } from 'commander';
import { redact } from '../../util/redact.js';
import { verifyProject } from '../../workflow/verify.js';
import { setExitCode } from '../exit-code.js';
import { DESTINATION_OPTION_HELP } from '../flags.js';
import { renderVerifyReport } from '../render-verify.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface VerifyFlags {
  project?: string;
  destination?: string;
  sources?: string;
  start?: string;
  end?: string;
  repair: boolean;
  json: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      "check each events table against Klaviyo's own counts per metric and UTC day; exit 1 when any differs",
    )
    .option('--project <dir>', `project folder (default ${DEFAULT_PROJECT_DIR})`)
    .option('--destination <url>', DESTINATION_OPTION_HELP)
    .option('--sources <names>', 'only these events datasources (comma separated names or table names)')
    .option('--start <time>', 'check from this time instead of the start of what the table covers')
    .option('--end <time>', 'check up to this time instead of the end of what the table covers')
    .option('--repair', 're-read the differing days, load what is missing, and check them again', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (flags: VerifyFlags) => {
      const report = await verifyProject({
        projectDir: flags.project ?? DEFAULT_PROJECT_DIR,
        destination: flags.destination,
        ...(flags.sources
          ? {
              sources: flags.sources
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        start: flags.start,
        end: flags.end,
        repair: flags.repair,
        progress: (line) => process.stderr.write(`${redact(line)}\n`),
      });
      const text = flags.json ? JSON.stringify(report, null, 2) : renderVerifyReport(report);
      process.stdout.write(`${redact(text)}\n`);
      if (!report.ok) setExitCode(1);
    });
}
