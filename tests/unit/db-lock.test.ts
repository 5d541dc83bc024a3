import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireLock } from '../../server/lib/db';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '../..');
const CONTENDERS = 4;

/** The pid of a process that has exited: its lock is stale. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function contender(lockFile: string, goFile: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, 'fixtures', 'lock-taker.ts'),
      lockFile,
      goFile,
      String(CONTENDERS),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const until = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) return resolve(m[0]);
        if (child.exitCode !== null) return reject(new Error(`contender exited: ${out}`));
        setTimeout(check, 5);
      };
      check();
    });
  return { child, until, output: () => out };
}

describe('the embedded database lock file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aller-vers-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when it is free, then it is taken and released; while held by a live process, it is refused', () => {
    const file = path.join(dir, 'aller-vers.lock');
    const release = acquireLock(file);
    expect(fs.existsSync(file)).toBe(true);
    release();
    expect(fs.existsSync(file)).toBe(false);

    fs.writeFileSync(file, String(process.ppid));
    expect(() => acquireLock(file)).toThrow(/in use by process/);
  });

  it.each([1, 2])(
    'when several processes take over a stale lock at the same instant (round %i), then exactly one wins and the others are refused',
    async () => {
      const file = path.join(dir, 'aller-vers.lock');
      const go = path.join(dir, 'go');
      fs.writeFileSync(file, String(deadPid()));
      const all = Array.from({ length: CONTENDERS }, () => contender(file, go));
      try {
        await Promise.all(all.map((c) => c.until(/READY/)));
        fs.writeFileSync(go, '');
        const outcomes = await Promise.all(all.map((c) => c.until(/WON|REFUSED/)));
        expect(outcomes.filter((o) => o === 'WON')).toHaveLength(1);
        const winner = all[outcomes.indexOf('WON')];
        expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`^${winner.child.pid}\\b`));
        // Nothing is left beside the lock (but the contenders' own line-up marks).
        expect(
          fs
            .readdirSync(dir)
            .filter((f) => !f.startsWith('stale-seen-'))
            .sort(),
        ).toEqual(['aller-vers.lock', 'go']);
        winner.child.stdin!.end();
        await new Promise((r) => winner.child.once('exit', r));
        expect(fs.existsSync(file)).toBe(false);
      } finally {
        for (const c of all) if (c.child.exitCode === null) c.child.kill('SIGKILL');
      }
    },
  );
});
