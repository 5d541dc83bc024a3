import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  exitWithin,
  ROOT,
  removeRedisKeys,
  start,
  testServicesEnv,
  waitForHealthy,
  waitForOutput,
} from './processes';
import { freePort } from '../../setup/ports';

jest.setTimeout(180_000);

const prefix = `test-build-${crypto.randomBytes(4).toString('hex')}`;
// Inside the project, as dist/ is: the compiled code finds node_modules by walking up.
const outDir = path.join(ROOT, 'test-output', `build-${crypto.randomBytes(4).toString('hex')}`);
// The processes run elsewhere, so nothing is found through the working directory by chance.
let cwd: string;

const env = (extra: Record<string, string> = {}) =>
  testServicesEnv(prefix, { NODE_ENV: 'development', LOG_LEVEL: 'info', ...extra });

beforeAll(async () => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'aller-vers-build-'));
  await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--outDir', outDir], {
    cwd: ROOT,
  });
});

afterAll(async () => {
  fs.rmSync(outDir, { recursive: true, force: true });
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  await removeRedisKeys(prefix);
});

describe('npm run build', () => {
  it('when the compiled web is started with plain node, then it serves /healthz, its static assets and the API documentation with the package version, and SIGTERM exits 0', async () => {
    const port = await freePort();
    const web = start(
      path.join(outDir, 'server', 'index.js'),
      [],
      env({ PORT: String(port), HOST: '127.0.0.1', RUN_WORKER_IN_WEB: 'false' }),
      { compiled: true, cwd },
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHealthy(`${base}/healthz`, web, 60_000);
      const css = await fetch(`${base}/static/app.css`);
      expect(css.status).toBe(200);
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
      expect(await css.text()).toBe(
        fs.readFileSync(path.join(ROOT, 'server/web/static/app.css'), 'utf8'),
      );
      expect((await fetch(`${base}/static/dsfr/dsfr.min.css`)).status).toBe(200);
      // The API reference: its page, its starter script and the viewer from swagger-ui-dist.
      for (const asset of [
        '/docs/api',
        '/static/api-reference.js',
        '/static/swagger-ui/swagger-ui-bundle.js',
        '/static/swagger-ui/swagger-ui.css',
      ])
        expect([asset, (await fetch(`${base}${asset}`)).status]).toEqual([asset, 200]);
      const docs = await (await fetch(`${base}/api/docs`)).json();
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
      expect(docs.info.version).toBe(pkg.version);
    } finally {
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 30_000)).toBe(0);
    }
  });

  it('when the compiled worker is started with plain node, then it starts delivering and SIGTERM exits 0', async () => {
    const worker = start(path.join(outDir, 'jobs', 'worker.js'), [], env(), {
      compiled: true,
      cwd,
    });
    try {
      await waitForOutput(worker, 'Deadline worker started', 60_000);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await exitWithin(worker, 30_000)).toBe(0);
    }
  });
});
