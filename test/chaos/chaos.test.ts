/**
 * `npm run test:chaos`: the fault-injection suite (issue 5). One file, run in order, so the cases do
 * not compete for the two CI cores and the counters add up to one summary line at the end.
 */
import { afterAll } from 'vitest';
import { faultCases } from './faults.cases.js';
import { processCases } from './process.cases.js';
import { summaryLine } from './support.js';

const started = Date.now();

faultCases();
processCases();

afterAll(() => {
  process.stdout.write(`\n${summaryLine(Date.now() - started)}\n`);
});
