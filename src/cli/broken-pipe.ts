/**
 * `klaviyo-ingest init | head -1`: once the reader of stdout (or stderr) is gone, each write to it
 * fails with EPIPE, which Node raises as an unhandled 'error' event: a stack trace and exit 1. Other
 * commands are ended by SIGPIPE there, which Node ignores; so the CLI ends quietly with the code a
 * shell shows for a command SIGPIPE ended (128 + 13 = 141), the code the launcher also passes on
 * from a relaunched child.
 */
import os from 'node:os';

export const BROKEN_PIPE_EXIT_CODE = 128 + os.constants.signals.SIGPIPE;

export function exitQuietlyOnBrokenPipe(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(BROKEN_PIPE_EXIT_CODE);
      throw error; // what Node does with an 'error' nobody handles
    });
  }
}
