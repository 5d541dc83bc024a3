import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The layer rules of eslint.config.mjs, on planted imports: each source is linted as if it were
 * a file at `filePath` in the tree (ESLint's lintText, nothing is written). ESLint and its flat
 * config are ES modules, so they run in one child process rather than in jest's module system.
 */
const root = path.resolve(__dirname, '../..');

interface Case {
  name: string;
  filePath: string;
  code: string;
}

interface Outcome {
  name: string;
  fatal: number;
  restricted: string[];
}

function lint(cases: Case[]): Map<string, Outcome> {
  const script = `
    import { ESLint } from 'eslint';
    const cases = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const rules = [
      '@typescript-eslint/no-restricted-imports',
      'no-restricted-syntax',
      'local/no-string-sql',
      'local/trx-in-transaction',
    ];
    const out = [];
    for (const c of cases) {
      const [r] = await eslint.lintText(c.code, { filePath: c.filePath });
      out.push({
        name: c.name,
        fatal: r.messages.filter((m) => m.fatal).length,
        restricted: r.messages
          .filter((m) => rules.includes(m.ruleId))
          .map((m) => m.message),
      });
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(cases)],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  if (run.status !== 0) throw new Error(`eslint run failed: ${run.stderr}`);
  const outcomes = JSON.parse(run.stdout) as Outcome[];
  return new Map(outcomes.map((o) => [o.name, o]));
}

// Each planted import is used, so no other rule (unused variables) speaks.
const planted = (from: string) =>
  `import * as planted from '${from}';\nexport const x = planted;\n`;

const forbidden: Case[] = [
  {
    name: 'lib imports a feature',
    filePath: 'server/lib/scratch-planted.ts',
    code: planted('../features/deadlines/deadline-repository'),
  },
  {
    name: 'lib imports auth',
    filePath: 'server/lib/scratch-planted.ts',
    code: planted('../auth/actor'),
  },
  {
    name: 'lib imports the web',
    filePath: 'server/lib/scratch-planted.ts',
    code: planted('../web/render'),
  },
  {
    name: 'lib imports a feature by a type only',
    filePath: 'server/lib/scratch-planted.ts',
    code: `import type { Person } from '../features/persons/person-repository';\nexport type X = Person;\n`,
  },
  {
    name: 'a feature imports the web',
    filePath: 'server/features/persons/scratch-planted.ts',
    code: planted('../../web/persons/person-labels'),
  },
  {
    name: 'a feature imports the seed',
    filePath: 'server/features/referrals/scratch-planted.ts',
    code: planted('../../seed/demo'),
  },
  {
    name: "a feature imports another feature's repository",
    filePath: 'server/features/referrals/scratch-planted.ts',
    code: planted('../partners/partner-repository'),
  },
];

// A processor (jobs/<area>/), as the web's pages, gets what it needs from the container's Deps.
const processor = (body: string) =>
  `import type { Processor } from '../processor';\nexport const p: Processor = async ({ deadline, trx, deps, now }) => {\n${body}\n};\n`;
const page = (body: string) =>
  `import type { Deps } from '../../container';\nexport const show = (deps: Deps) => ${body};\n`;

forbidden.push(
  {
    name: 'a job imports a repository',
    filePath: 'jobs/follow-ups/scratch-planted.ts',
    code: planted('../../server/features/follow-ups/follow-up-repository'),
  },
  {
    name: 'a job imports knex',
    filePath: 'jobs/follow-ups/scratch-planted.ts',
    code: planted('knex'),
  },
  {
    name: 'a job imports the web',
    filePath: 'jobs/referrals/scratch-planted.ts',
    code: planted('../../server/web/render'),
  },
  {
    name: 'the worker shell imports a repository',
    filePath: 'jobs/scratch-planted.ts',
    code: planted('../server/features/deadlines/deadline-repository'),
  },
  {
    name: "a processor reads the container's repositories",
    filePath: 'jobs/follow-ups/scratch-planted.ts',
    code: processor(
      '  return (await deps.repos.persons.findById(trx, deadline.structureId, deadline.subjectId)) ? { status: "done" } : { status: "skipped", note: String(now) };',
    ),
  },
  {
    name: 'a processor builds a query',
    filePath: 'jobs/persons/scratch-planted.ts',
    code: processor(
      '  await trx("follow_ups").where({ origin_deadline_id: deadline.id }).first();\n  return deps && now ? { status: "done" } : { status: "done" };',
    ),
  },
  {
    name: 'a page imports a repository',
    filePath: 'server/web/persons/scratch-planted.ts',
    code: planted('../../features/persons/person-repository'),
  },
  {
    name: 'a page imports knex',
    filePath: 'server/web/persons/scratch-planted.ts',
    code: planted('knex'),
  },
  {
    name: 'a page imports knex by a type only',
    filePath: 'server/web/admin/scratch-planted.ts',
    code: `import type { Knex } from 'knex';\nexport type X = Knex;\n`,
  },
  {
    name: 'a page imports the seed',
    filePath: 'server/web/admin/scratch-planted.ts',
    code: planted('../../seed/demo'),
  },
  {
    name: "a page reads the container's repositories",
    filePath: 'server/web/persons/scratch-planted.ts',
    code: page('deps.repos.persons'),
  },
  {
    name: 'a page queries the database',
    filePath: 'server/web/persons/scratch-planted.ts',
    code: page("deps.knex('persons').select('id')"),
  },
  {
    name: 'a page takes knex from the container',
    filePath: 'server/web/admin/scratch-planted.ts',
    code: `import type { Deps } from '../../container';\nexport const show = (deps: Deps) => {\n  const { knex: k } = deps;\n  return k;\n};\n`,
  },
);

// A repository's query (lines 11 and 28 of docs/security.md): SQL text from the code, values bound,
// and inside a transaction every query on its trx.
const repository = (body: string) =>
  `import type { Knex } from 'knex';\nconst TABLE_SQL = 'persons p';\nconst labelSql = (a: string) => a + '.alias';\nexport const q = (knex: Knex, deps: { knex: Knex }, uow: (fn: (trx: Knex.Transaction) => Promise<unknown>) => Promise<unknown>, name: string, parts: string[]) => {\n  void TABLE_SQL; void labelSql; void deps; void uow; void name; void parts;\n${body}\n};\n`;
const repo = 'server/features/persons/scratch-planted-repository.ts';

forbidden.push(
  {
    name: 'raw SQL interpolates a value',
    filePath: repo,
    code: repository("  return knex.raw(`SELECT * FROM persons WHERE last_name = '${name}'`);"),
  },
  {
    name: 'whereRaw concatenates a value',
    filePath: repo,
    code: repository(`  return knex('persons').whereRaw("last_name = '" + name + "'");`),
  },
  {
    name: 'joinRaw takes joined strings',
    filePath: repo,
    code: repository("  return knex('persons').joinRaw(parts.join(' '));"),
  },
  {
    name: 'orderByRaw interpolates a variable beside a constant',
    filePath: repo,
    code: repository("  return knex('persons').orderByRaw(`${TABLE_SQL}, ${name}`);"),
  },
  {
    name: 'raw SQL interpolates a call that is no SQL builder',
    filePath: 'jobs/persons/scratch-planted.ts',
    code: `import type { Knex } from 'knex';\nexport const q = (trx: Knex.Transaction, id: string) => trx.raw(\`SELECT \${String(id)}\`);\n`,
  },
  {
    name: 'a transaction queries the outer knex',
    filePath: repo,
    code: repository(
      "  return knex.transaction(async (trx) => {\n    await trx('persons').where({ id: name }).update({ alias: null });\n    return knex('contacts').where({ person_id: name });\n  });",
    ),
  },
  {
    name: "a unit of work queries the container's knex",
    filePath: repo,
    code: repository(
      "  return uow(async (trx) => {\n    await trx('persons').where({ id: name }).first();\n    return deps.knex('contacts').where({ person_id: name });\n  });",
    ),
  },
  {
    name: 'a transaction runs a raw statement on the outer knex',
    filePath: repo,
    code: repository(
      "  return knex.transaction(async (trx) => {\n    await knex.raw('SELECT pg_advisory_xact_lock(1)');\n    return trx('persons').where({ id: name });\n  });",
    ),
  },
  {
    name: 'a transaction opens another transaction on the outer knex',
    filePath: repo,
    code: repository(
      "  return knex.transaction(async () => knex.transaction(async (inner) => inner.raw('SELECT 1')));",
    ),
  },
);

const allowed: Case[] = [
  {
    name: 'raw SQL binds its values and identifiers',
    filePath: repo,
    code: repository(
      "  return knex.raw('SELECT ?? FROM persons WHERE last_name = ? AND id = :id', ['alias', name]);",
    ),
  },
  {
    name: 'raw SQL interpolates SQL constants and fragment builders',
    filePath: repo,
    code: repository(
      "  return knex('persons as p').select(knex.raw(`${labelSql('p')} AS label`)).joinRaw(`JOIN ${TABLE_SQL} ON true`).whereRaw('p.id = ?', [name]);",
    ),
  },
  {
    name: 'a transaction queries its trx, with knex.raw, knex.fn and knex.ref as values',
    filePath: repo,
    code: repository(
      "  return knex.transaction(async (trx) => {\n    await trx('persons').where({ id: name }).update({ version: knex.raw('version + 1'), updated_at: knex.fn.now() });\n    return trx('contacts').where('person_id', knex.ref('p.id'));\n  });",
    ),
  },
  {
    name: 'a query beside a transaction uses knex',
    filePath: repo,
    code: repository(
      "  const row = knex('persons').where({ id: name }).first();\n  return uow(async (trx) => trx('persons').where({ id: name })).then(() => row);",
    ),
  },

  {
    name: 'a job imports a service',
    filePath: 'jobs/follow-ups/scratch-planted.ts',
    code: planted('../../server/features/follow-ups/follow-up-service'),
  },
  {
    name: 'a job imports rule kinds and schemas',
    filePath: 'jobs/persons/scratch-planted.ts',
    code: planted('../../server/features/deadlines/rule-kinds'),
  },
  {
    name: 'a job imports lib',
    filePath: 'jobs/persons/scratch-planted.ts',
    code: planted('../../server/lib/calendar'),
  },
  {
    name: "a job imports a repository's type only",
    filePath: 'jobs/scratch-planted.ts',
    code: `import type { Deadline } from '../server/features/deadlines/deadline-repository';\nexport type X = Deadline;\n`,
  },
  {
    name: 'a processor calls a service',
    filePath: 'jobs/follow-ups/scratch-planted.ts',
    code: processor('  return deps.services.followUpReminders.notifyDue(trx, deadline, now);'),
  },
  {
    name: "the worker shell uses the container's deadline repository",
    filePath: 'jobs/scratch-planted.ts',
    code: `import type { Deps } from '../server/container';\nexport const rows = (deps: Deps) => deps.repos.deadlines;\n`,
  },
  {
    name: 'a page calls a service',
    filePath: 'server/web/persons/scratch-planted.ts',
    code: page('deps.services.persons'),
  },
  {
    name: "a page imports a repository's type only",
    filePath: 'server/web/persons/scratch-planted.ts',
    code: `import type { Person } from '../../features/persons/person-repository';\nexport type X = Person;\n`,
  },
  {
    name: 'lib imports lib',
    filePath: 'server/lib/scratch-planted.ts',
    code: planted('./errors'),
  },
  {
    name: 'a feature imports its own repository',
    filePath: 'server/features/partners/scratch-planted.ts',
    code: planted('./partner-repository'),
  },
  {
    name: "a feature imports another feature's service",
    filePath: 'server/features/referrals/scratch-planted.ts',
    code: planted('../partners/partner-service'),
  },
  {
    name: 'a feature imports lib',
    filePath: 'server/features/referrals/scratch-planted.ts',
    code: planted('../../lib/errors'),
  },
  {
    name: 'the web imports a feature',
    filePath: 'server/web/persons/scratch-planted.ts',
    code: planted('../../features/persons/person-service'),
  },
];

describe('layer rules of the lint', () => {
  let results: Map<string, Outcome>;
  beforeAll(() => {
    results = lint([...forbidden, ...allowed]);
  }, 60_000);

  it.each(forbidden.map((c) => [c.name]))('fails when %s', (name) => {
    const r = results.get(name)!;
    expect(r.fatal).toBe(0);
    expect(r.restricted).toHaveLength(1);
  });

  it.each(allowed.map((c) => [c.name]))('passes when %s', (name) => {
    const r = results.get(name)!;
    expect(r.fatal).toBe(0);
    expect(r.restricted).toEqual([]);
  });

  it('says what to do instead of SQL built from strings or a query outside the transaction', () => {
    expect(results.get('raw SQL interpolates a value')!.restricted[0]).toMatch(/bindings/);
    expect(results.get('a transaction queries the outer knex')!.restricted[0]).toMatch(/trx/);
  });

  it('says what a job and a page do instead', () => {
    expect(results.get('a job imports a repository')!.restricted[0]).toMatch(/through a service/);
    expect(results.get('a page imports a repository')!.restricted[0]).toMatch(/calls services/);
  });

  it('says what to do instead of reaching into a repository', () => {
    expect(results.get("a feature imports another feature's repository")!.restricted[0]).toMatch(
      /through its service/,
    );
  });
});
