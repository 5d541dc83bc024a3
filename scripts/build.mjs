// `npm run build [-- --outDir DIR] [--project TSCONFIG]`: compiles server/, jobs/ and migrations/
// with tsc (default outDir dist/, default project tsconfig.build.json; the bench passes its own
// project, which adds bench/), then copies what tsc leaves out, the web's static assets, next to the compiled
// code, so `node DIR/server/index.js` runs. DIR must sit inside the project (node_modules is
// found by walking up from it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--outDir');
const outDir = path.resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : 'dist');
const j = process.argv.indexOf('--project');
const project = path.resolve(
  root,
  j > 0 && process.argv[j + 1] ? process.argv[j + 1] : 'tsconfig.build.json',
);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], { stdio: 'inherit' });
fs.cpSync(path.join(root, 'server/web/static'), path.join(outDir, 'server/web/static'), {
  recursive: true,
});
console.log(
  `Built into ${path.relative(root, outDir) || '.'}: node ${path.relative(root, path.join(outDir, 'server/index.js'))}`,
);
