import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm run migrate:make -- verb-object`: writes migrations/YYYYMMDDHHmmss_verb-object.ts from a
 * template (one change per migration; schema and data apart).
 */
const name = process.argv[2];
if (!name || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
  process.stderr.write(
    'Usage: npm run migrate:make -- verb-object   (kebab-case, e.g. add-persons-phone-index)\n',
  );
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const file = path.resolve(__dirname, '../../migrations', `${stamp}_${name}.ts`);
fs.writeFileSync(
  file,
  `import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // the change: one table, index or constraint
}

export async function down(knex: Knex): Promise<void> {
  // the exact undo of up()
}
`,
  { flag: 'wx' },
);
process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
