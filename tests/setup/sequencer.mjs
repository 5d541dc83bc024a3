import path from 'node:path';
import TestSequencer from '@jest/test-sequencer';

/**
 * The files that take longest, slowest first: the five slowest of a CI run (from two minutes
 * down to one), then the build, a browser journey and the started servers (each well over half
 * a minute when run alone).
 */
const SLOW_FIRST = [
  'tests/e2e/journey-browser.test.ts',
  'tests/integration/cli/cli.test.ts',
  'tests/e2e/long-lists.test.ts',
  'tests/e2e/referrals-browser.test.ts',
  'tests/integration/start/build.test.ts',
  'tests/integration/access/person-matrix.test.ts',
  'tests/e2e/two-factor-browser.test.ts',
  'tests/integration/start/pglite-start.test.ts',
  'tests/integration/start/postgres-start.test.ts',
];

/**
 * Jest's order (the files that failed last time first, then the slowest of the last run on this
 * machine), except that a run which has no durations yet, as on a fresh CI machine, orders by
 * file size, and a short file that runs a browser for two minutes would then start among the
 * last and keep one worker busy long after the other has finished: those start first.
 */
export default class SlowFirstSequencer extends TestSequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (test) => {
      if (test.duration != null) return SLOW_FIRST.length;
      const i = SLOW_FIRST.indexOf(path.relative(test.context.config.rootDir, test.path));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: every other file keeps jest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
