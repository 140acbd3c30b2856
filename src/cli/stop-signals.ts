/**
 * SIGINT (Ctrl-C) and SIGTERM (systemd, Kubernetes, `kill`) stop a run cleanly: the run's signal is
 * aborted with a StopRequest, fetching stops, the commit in flight finishes, staged rows are rolled
 * back, each source cut short logs an ERROR row naming the signal, and the CLI exits 128 + the
 * signal's number (130, 143). A second signal, a second or more after the first, exits at once: the
 * loads then stay STARTED and the next run closes them as interrupted. (Ctrl-C reaches both the
 * launcher and its child, which then also gets the launcher's copy: repeats within a second are one.)
 */
import os from 'node:os';
import { StopRequest } from '../workflow/run-stop.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Repeats of a signal closer than this to the first are the same request. */
const SAME_REQUEST_MS = 1000;

export function signalExitCode(signal: string): number {
  return 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0);
}

export interface StopListener {
  /** Aborted with a StopRequest on the first signal. */
  readonly signal: AbortSignal;
  /** The first signal received, or null. */
  received(): StopSignal | null;
  dispose(): void;
}

export function listenForStop(onStop: (signal: StopSignal) => void): StopListener {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  let firstAt = 0;
  const handler = (signal: StopSignal) => {
    if (first === null) {
      first = signal;
      firstAt = Date.now();
      onStop(signal);
      controller.abort(new StopRequest(signal));
      return;
    }
    if (Date.now() - firstAt < SAME_REQUEST_MS) return;
    process.stderr.write(
      `klaviyo-ingest: second ${signal}: exiting now; loads in flight stay STARTED and the next run closes them as interrupted\n`,
    );
    process.exit(signalExitCode(signal));
  };
  for (const name of STOP_SIGNALS) process.on(name, handler);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const name of STOP_SIGNALS) process.off(name, handler);
    },
  };
}
