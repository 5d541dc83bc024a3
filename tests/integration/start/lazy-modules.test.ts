import crypto from 'node:crypto';
import { exitWithin, removeRedisKeys, start, testServicesEnv } from './processes';

jest.setTimeout(120_000);

const prefix = `test-lazy-${crypto.randomBytes(4).toString('hex')}`;

afterAll(async () => {
  await removeRedisKeys(prefix);
});

/**
 * Packages the web loads at the first use, not at start: each holds megabytes of heap (fonts
 * and tables, dictionaries, templates) that most web processes never need (docs/benchmarks.md,
 * "Memory of the web process"). A static import of one of them anywhere on the web's path would load it at start.
 */
const LAZY = [
  'pdfkit',
  'fontkit',
  'qrcode',
  '@zxcvbn-ts/core',
  '@zxcvbn-ts/language-common',
  '@zxcvbn-ts/language-fr',
  '@bull-board/api',
  '@bull-board/express',
];

describe('what the web loads at start', () => {
  it('when the app is built, then the PDF, QR code, password-strength and queue-dashboard packages are not loaded; drawing a PDF, a QR code and judging a password load theirs', async () => {
    const child = start(
      'tests/integration/start/loaded-packages.ts',
      [],
      testServicesEnv(prefix, { NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    );
    expect(await exitWithin(child, 90_000)).toBe(0);
    const lines = child
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { at: string; packages: string[] });
    const at = (name: string) => lines.find((l) => l.at === name)!.packages;
    // The web's own packages are seen, so an absence below means something.
    expect(at('app')).toEqual(expect.arrayContaining(['express', 'knex', 'bullmq']));
    expect(LAZY.filter((p) => at('app').includes(p))).toEqual([]);
    expect(at('used')).toEqual(
      expect.arrayContaining(['pdfkit', 'qrcode', '@zxcvbn-ts/core', '@zxcvbn-ts/language-fr']),
    );
  });
});
