import { Command, CommanderError } from 'commander';
import { IngestError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerInitCommand } from './commands/init.js';
import { registerRunCommand } from './commands/run.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerStatusCommand } from './commands/status.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerVerifyCommand } from './commands/verify.js';
import { setExitCode, takeExitCode } from './exit-code.js';

function buildProgram(): Command {
  const program = new Command('klaviyo-ingest')
    .description(
      'Ingest Klaviyo events, profiles, campaigns, lists, templates and metrics into DuckDB or\n' +
        'PostgreSQL, incrementally and exactly once, from a Treasure Data workflow project folder.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerDemoCommand(program);
  registerInitCommand(program);
  registerValidateCommand(program);
  registerRunCommand(program);
  registerStatusCommand(program);
  registerVerifyCommand(program);
  registerSimulateCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code (0 ok, 1 ingestion failed / lint errors, 2 config or usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return takeExitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes with 1 -> we use 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof IngestError) {
      process.stderr.write(`klaviyo-ingest: ${redact(error.render())}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`klaviyo-ingest: unexpected error: ${redact(message)}\n`);
    setExitCode(1);
    return 1;
  }
}
