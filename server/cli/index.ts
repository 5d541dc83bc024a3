import readline from 'node:readline';
import { Writable } from 'node:stream';
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseConfig, type Config } from '../config';
import { AppError } from '../lib/errors';
import { createCipher } from '../lib/crypto';
import {
  databaseAnswerBoundMs,
  migrateLatest,
  migrationSource,
  openDatabase,
  underMigrationLock,
  type Database,
} from '../lib/db';
import { benchSeed } from '../seed/bench';
import { seedDemo } from '../seed/demo';
import { createStructure, createUser, disableUser, runRetention } from './commands';
import { createUserRepository } from '../features/users/user-repository';
import { createPartnerRepository } from '../features/partners/partner-repository';
import { createPartnerEmailChangeRepository } from '../features/partners/partner-email-change-repository';

/**
 * Operator commands: `npm run cli -- <command> [options]`.
 * The created id goes to stdout alone (scripts capture it); messages go to stderr.
 * Exit codes: 0 done, 1 refused (bad input, conflict, database error), 2 bad usage.
 */

type Options = NonNullable<ParseArgsConfig['options']>;
type Value = string | boolean | (string | boolean)[] | undefined;
type Values = Record<string, Value>;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  run(ctx: { db: Database; config: Config; values: Values }): Promise<void>;
}

/** Bad usage or a refused precondition: exit code 2. */
class UsageError extends Error {}

const str = (v: Value) => (typeof v === 'string' ? v : undefined);
const say = (line: string) => process.stderr.write(`${line}\n`);

async function requireSchema(db: Database): Promise<void> {
  if (!(await db.knex.schema.hasTable('structures'))) {
    throw new UsageError('The database has no schema yet: run `npm run cli -- migrate` first');
  }
}

/**
 * The first line of standard input; the password never appears in arguments or history. Typed on
 * a terminal, it is asked for and not shown.
 */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) return readHidden('Password (12 to 128 characters): ');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
    return '';
  } finally {
    rl.close();
  }
}

/**
 * One line typed on the terminal, not echoed: readline puts the terminal in raw mode (it echoes
 * nothing itself) and writes its own echo to a sink; editing keys still work. The prompt is
 * written once the terminal is raw, so nothing typed after it is shown. Ctrl-C gives up.
 */
function readHidden(prompt: string): Promise<string> {
  const rl = readline.createInterface({
    input: process.stdin,
    output: new Writable({ write: (_chunk, _encoding, done) => done() }),
    terminal: true,
    historySize: 0,
  });
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    rl.once('line', (line) => {
      typed = line;
      rl.close();
    });
    rl.once('SIGINT', () => {
      reject(new Error('No password was typed (interrupted)'));
      rl.close();
    });
    // Enter, Ctrl-D or Ctrl-C: the cursor goes past the prompt's line.
    rl.once('close', () => {
      process.stderr.write('\n');
      resolve(typed);
    });
  });
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: 'apply every pending migration',
    usage: 'migrate',
    options: {},
    async run({ db }) {
      const applied = await migrateLatest(db);
      say(
        applied.length
          ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}`
          : 'Already up to date',
      );
    },
  },
  'migrate:rollback': {
    summary: 'undo the last batch of migrations',
    usage: 'migrate:rollback',
    options: {},
    async run({ db }) {
      const [, undone] = (await underMigrationLock(db, () =>
        db.knex.migrate.rollback({ migrationSource }),
      )) as [number, string[]];
      say(
        undone.length
          ? `Rolled back ${undone.length} migration(s):\n  ${undone.join('\n  ')}`
          : 'Nothing to roll back',
      );
    },
  },
  'seed:demo': {
    summary: 'load the demo structure, accounts and persons (never in production)',
    usage: 'seed:demo',
    options: {},
    async run({ db, config }) {
      if (config.NODE_ENV === 'production') {
        throw new UsageError('Demo data is refused in production (NODE_ENV=production)');
      }
      await requireSchema(db);
      const result = await seedDemo(db.knex, { cipher: createCipher(config.ENCRYPTION_KEY) });
      process.stdout.write(`${result.structureId}\n`);
      say(`Demo data loaded. Accounts (password "${result.password}"):`);
      for (const a of result.accounts) say(`  ${a.role.padEnd(9)} ${a.email}`);
    },
  },
  'bench:seed': {
    summary:
      'load a large bench structure (persons, contacts, follow-ups, referrals, districts, teams, rights) for npm run bench',
    usage: 'bench:seed [--persons 20000]',
    options: { persons: { type: 'string' } },
    async run({ db, config, values }) {
      if (config.NODE_ENV === 'production') {
        throw new UsageError('Bench data is refused in production (NODE_ENV=production)');
      }
      await requireSchema(db);
      const persons = Number(str(values.persons) ?? 20000);
      if (!Number.isInteger(persons) || persons < 1 || persons > 1_000_000) {
        throw new UsageError('--persons must be a whole number between 1 and 1000000');
      }
      // On stderr, with the time left; drawn only on a terminal (a log gets the lines instead).
      const bar = new SingleBar(
        {
          format:
            'bench:seed [{bar}] {percentage}% | {value}/{total} persons | {duration_formatted} elapsed, ETA {eta_formatted}',
          stream: process.stderr,
          etaBuffer: 20,
        },
        Presets.shades_classic,
      );
      const tty = process.stderr.isTTY === true;
      const started = Date.now();
      let barStarted = false;
      try {
        const seed = await benchSeed(db.knex, {
          persons,
          cipher: createCipher(config.ENCRYPTION_KEY),
          log: (line) => (barStarted ? undefined : say(line)),
          onProgress: (done, total) => {
            if (!tty) {
              say(
                `bench:seed ${done}/${total} persons (${Math.round((Date.now() - started) / 1000)} s)`,
              );
            } else if (!barStarted) {
              bar.start(total, done);
              barStarted = true;
            } else bar.update(done);
            if (done === total && barStarted) {
              bar.stop();
              barStarted = false;
            }
          },
        });
        say(`bench:seed done in ${Math.round((Date.now() - started) / 1000)} s`);
        process.stdout.write(`${seed.structureId}\n`);
      } finally {
        if (barStarted) bar.stop();
      }
    },
  },
  'retention:run': {
    summary:
      'anonymise the files without activity for the retention period and purge audit events older than 12 months; --dry-run only lists',
    usage: 'retention:run [--dry-run]',
    options: { 'dry-run': { type: 'boolean' } },
    async run({ db, config, values }) {
      await requireSchema(db);
      const dryRun = values['dry-run'] === true;
      const reports = await runRetention(db.knex, createCipher(config.ENCRYPTION_KEY), {
        dryRun,
        answerBoundMs: databaseAnswerBoundMs(config),
        onProgress: (done, total, structureId) => {
          if (done % 100 === 0 || done === total)
            say(`  structure ${structureId}: ${done}/${total} file(s)`);
        },
      });
      const verb = dryRun ? 'would be' : 'were';
      for (const r of reports) {
        const sum = (k: keyof (typeof r.persons)[number]['counts']) =>
          r.persons.reduce((n, p) => n + p.counts[k], 0);
        say(
          `Structure ${r.structureId} (${r.retentionMonths} months, no activity since ${r.cutoff.toISOString()}): ` +
            `${r.persons.length} file(s) ${verb} anonymised (contacts ${sum('contacts')}, follow-ups ${sum('followUps')}, ` +
            `right notes ${sum('rightNotes')}, referrals ${sum('referrals')} (${sum('openReferrals')} open ${verb} cancelled), referral events ${sum('referralEvents')}, reports ${sum('reports')}, ` +
            `notifications ${sum('notifications')}); ${r.dismissedReports.length} dismissed report(s) ${verb} cleared; ` +
            `${r.waitingReports.length} report(s) never triaged ${verb} dismissed and cleared; ` +
            `${r.auditEventsPurged} audit event(s) ${verb} purged; ` +
            `${r.idempotencyKeysPurged} one-time key(s) of creations ${verb} removed`,
        );
        // The ids on stdout, one a line, for a script (or a second look before the real run).
        for (const p of r.persons) process.stdout.write(`${p.id}\n`);
        for (const id of r.dismissedReports) say(`  dismissed report ${id}`);
        for (const id of r.waitingReports) say(`  report never triaged ${id}`);
      }
      if (dryRun) say('Dry run: nothing was changed');
    },
  },
  'structures:create': {
    summary: 'create a structure (a CCAS, a CIAS)',
    usage: 'structures:create --name "CCAS de Trélazé" --slug trelaze [--city Trélazé]',
    options: {
      name: { type: 'string' },
      slug: { type: 'string' },
      city: { type: 'string' },
    },
    async run({ db, values }) {
      await requireSchema(db);
      const s = await createStructure(db.knex, {
        name: str(values.name),
        slug: str(values.slug),
        city: str(values.city),
      });
      process.stdout.write(`${s.id}\n`);
      say(`Structure "${s.slug}" created`);
    },
  },
  'users:create': {
    summary: 'create a user; the password is read from the first line of standard input',
    usage:
      'users:create --email E --name N --role worker|manager|partner|observer|admin --structure SLUG_OR_ID [--partner PARTNER_ID] < password.txt',
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      structure: { type: 'string' },
      partner: { type: 'string' },
    },
    async run({ db, values }) {
      await requireSchema(db);
      const password = await readPassword();
      const partners = createPartnerRepository(createPartnerEmailChangeRepository());
      const u = await createUser(
        db.knex,
        {
          users: createUserRepository(),
          partnerOwned: (knex, structureId, partnerId) =>
            partners.owns(knex, structureId, partnerId),
        },
        {
          email: str(values.email),
          name: str(values.name),
          role: str(values.role),
          structure: str(values.structure),
          partner: str(values.partner),
          password,
        },
      );
      process.stdout.write(`${u.id}\n`);
      say(`User ${str(values.email)} created`);
    },
  },
  'users:disable': {
    summary: 'disable a user and end all their sessions',
    usage: 'users:disable --email E',
    options: { email: { type: 'string' } },
    async run({ db, config, values }) {
      await requireSchema(db);
      const u = await disableUser(db.knex, config, str(values.email));
      process.stdout.write(`${u.id}\n`);
      say(`User ${str(values.email)} disabled; their sessions are ended`);
    },
  },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(18)} ${c.summary}`);
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Examples:',
    ...Object.values(COMMANDS)
      .filter((c) => c.usage.includes('--'))
      .map((c) => `  npm run cli -- ${c.usage}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    say(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    say(`error: unknown command "${name}" (try: npm run cli -- help)`);
    return 2;
  }

  let values: Values;
  try {
    ({ values } = parseArgs({ args: rest, options: command.options, strict: true }));
  } catch (err) {
    say(`error: ${(err as Error).message} (usage: npm run cli -- ${command.usage})`);
    return 2;
  }

  let config: Config;
  try {
    config = parseConfig();
  } catch (err) {
    say(`error: ${(err as Error).message}`);
    return 2;
  }

  let db: Database | null = null;
  try {
    // On the embedded database this takes its lock: refused while the app runs on the folder.
    db = await openDatabase(config);
    await command.run({ db, config, values });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      say(`error: ${err.message}`);
      return 2;
    }
    const message = err instanceof AppError ? err.message : (err as Error).message;
    say(`error: ${message.split('\n')[0]}`);
    return 1;
  } finally {
    await db?.close().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      say(`error: ${(err as Error).message}`);
      process.exitCode = 1;
    },
  );
}
