import type { Command } from 'commander';
import { parseFaultSpec } from '../../simulator/http/faults.js';
import { parseRateLimitMode } from '../../simulator/http/rate-limit.js';
import { DEMO_API_KEY, startSimulator } from '../../simulator/server.js';
import { configError } from '../../util/errors.js';
import { registerSecret } from '../../util/redact.js';
import { wholeNumberFlag } from '../flags.js';

interface SimulateFlags {
  port: string;
  seed: string;
  apiKey: string[];
  profiles?: string;
  events?: string;
  latencyMs?: string;
  jitterMs?: string;
  rateLimits: string;
  faults?: string;
  logFile?: string;
  now?: string;
}

const intFlag = (name: string, value: string | undefined) =>
  wholeNumberFlag(`--${name}`, value, { min: 0, example: '100' });

/** `klaviyo-ingest simulate`: runs the local Klaviyo API simulator until SIGINT/SIGTERM. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'Run a local Klaviyo API simulator on 127.0.0.1. Prints the base URL on the first line and, without\n' +
        '--api-key, the demo key on the second. Runs until SIGINT/SIGTERM.',
    )
    .option('--port <n>', 'port to listen on (0 = pick a free one)', '0')
    .option('--seed <n>', 'seed for generated data, latency jitter and faults', '1')
    .option(
      '--api-key <key>',
      'accepted private API key (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('--profiles <n>', 'number of profiles to generate')
    .option('--events <n>', 'number of events to generate')
    .option('--now <iso>', 'reference "now" for generated data (default: current time)')
    .option('--latency-ms <n>', 'latency added to every response')
    .option('--jitter-ms <n>', 'extra random latency up to this many ms')
    .option('--rate-limits <mode>', 'real | scaled:F | off', 'real')
    .option('--faults <spec>', 'fault rules, e.g. 503x3@events,reset@events:p=0.05,slow:5000,expire-cursor')
    .option('--log-file <path>', 'append one JSON line per request served')
    .action(async (flags: SimulateFlags) => {
      for (const k of flags.apiKey) registerSecret(k);
      try {
        parseRateLimitMode(flags.rateLimits);
        if (flags.faults) parseFaultSpec(flags.faults);
      } catch (error) {
        throw configError(error instanceof Error ? error.message : String(error), { code: 'CLI_FLAG' });
      }
      const now = flags.now === undefined ? undefined : Date.parse(flags.now);
      if (now !== undefined && Number.isNaN(now))
        throw configError(`--now: cannot parse '${flags.now}'`, { code: 'CLI_FLAG' });
      const sim = await startSimulator({
        port: intFlag('port', flags.port) ?? 0,
        seed: intFlag('seed', flags.seed) ?? 1,
        ...(flags.apiKey.length > 0 ? { apiKeys: flags.apiKey } : {}),
        ...(flags.profiles !== undefined ? { profiles: intFlag('profiles', flags.profiles) } : {}),
        ...(flags.events !== undefined ? { events: intFlag('events', flags.events) } : {}),
        ...(now !== undefined ? { now } : {}),
        latencyMs: intFlag('latency-ms', flags.latencyMs) ?? 0,
        jitterMs: intFlag('jitter-ms', flags.jitterMs) ?? 0,
        rateLimits: flags.rateLimits,
        ...(flags.faults ? { faults: flags.faults } : {}),
        ...(flags.logFile ? { logFile: flags.logFile } : {}),
      });
      process.stdout.write(`${sim.baseUrl}\n`);
      if (flags.apiKey.length === 0) process.stdout.write(`${DEMO_API_KEY}\n`);
      process.stderr.write(
        `simulator: ${sim.data.count('profiles')} profiles, ${sim.data.count('events')} events; Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sim.close();
    });
}
