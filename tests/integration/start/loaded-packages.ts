/**
 * Run as a child process by lazy-modules.test.ts: builds the web app as server/index.ts does
 * (container, then createApp) on the database and Redis given in DATABASE_URL and REDIS_URL,
 * prints the packages loaded by then, draws a PDF, a QR code and judges a password, and prints
 * them again. One line of JSON each: `{ "at": "app" | "used", "packages": [...] }`.
 */
import pino from 'pino';
import { createApp } from '../../../server/app';
import { checkPasswordPolicy } from '../../../server/auth/passwords';
import { parseConfig } from '../../../server/config';
import { buildContainer } from '../../../server/container';
import { qrSvgDataUri } from '../../../server/features/two-factor/totp';
import { createPostgres } from '../../../server/lib/db';
import { renderPdf } from '../../../server/lib/pdf';

function loadedPackages(): string[] {
  const names = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const [scope, name] = file.slice(at + 'node_modules/'.length).split('/');
    names.add(scope.startsWith('@') ? `${scope}/${name}` : scope);
  }
  return [...names].sort();
}

async function main() {
  const config = parseConfig(process.env);
  const deps = await buildContainer(config, {
    db: createPostgres(config, config.DATABASE_URL!),
    logger: pino({ level: 'silent' }),
  });
  try {
    createApp(deps);
    console.log(JSON.stringify({ at: 'app', packages: loadedPackages() }));
    await renderPdf({ title: 'Essai', author: 'aller-vers' }, (doc) => doc.text('Essai'));
    await qrSvgDataUri('otpauth://totp/essai');
    await checkPasswordPolicy('cheval correct agrafe batterie');
    console.log(JSON.stringify({ at: 'used', packages: loadedPackages() }));
  } finally {
    await deps.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
