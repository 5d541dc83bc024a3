/**
 * EXPLAIN ANALYZE of the statements behind the search, the duplicates check and the backlog,
 * as the repositories send them, on the bench database (`npm run cli -- bench:seed` first):
 *
 *   BENCH_DATABASE_URL=postgres://…/aller_vers_bench_1m npx tsx bench/explain.ts [--plans]
 *
 * Each repository call is captured (knex query events), then replayed in one transaction with
 * its SET LOCAL statements run and every other statement explained. Prints planning and
 * execution times; --plans prints the plans too. Reads only (the transaction is rolled back).
 */
import knexFactory, { type Knex } from 'knex';
import { createBusinessCalendar } from '../server/lib/calendar';
import { createCipher } from '../server/lib/crypto';
import { connectionSettings } from '../server/lib/db';
import { createPersonRepository } from '../server/features/persons/person-repository';
import { createBacklogRepository } from '../server/features/backlog/backlog-repository';
import { backlogBounds } from '../server/features/backlog/backlog-service';
import { BENCH_EMAIL } from '../server/seed/bench';
import { benchConfig } from './config';

const DB_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/aller_vers_bench';
const SHOW_PLANS = process.argv.includes('--plans');

type Sent = { sql: string; bindings: readonly Knex.RawBinding[] };

async function capture(knex: Knex, call: () => Promise<unknown>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const listener = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
    if (!/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(q.sql))
      sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  knex.on('query', listener);
  try {
    await call();
  } finally {
    knex.removeListener('query', listener);
  }
  return sent;
}

async function explain(knex: Knex, label: string, sent: Sent[]) {
  await knex
    .transaction(async (trx) => {
      for (const q of sent) {
        const sql = q.sql.replace(/\$\d+/g, '?');
        if (/^\s*SET /i.test(sql)) {
          await trx.raw(sql, q.bindings);
          continue;
        }
        const { rows } = await trx.raw(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
          q.bindings,
        );
        const plan = rows[0]['QUERY PLAN'][0];
        console.log(
          `${label}: planning ${plan['Planning Time'].toFixed(1)} ms, execution ${plan['Execution Time'].toFixed(1)} ms, rows ${plan.Plan['Actual Rows']} — ${sql.replace(/\s+/g, ' ').slice(0, 100)}…`,
        );
        if (SHOW_PLANS) {
          const { rows: text } = await trx.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, q.bindings);
          console.log(text.map((r: Record<string, string>) => `    ${r['QUERY PLAN']}`).join('\n'));
        }
      }
      throw new Error('rollback');
    })
    .catch((e) => {
      if ((e as Error).message !== 'rollback') throw e;
    });
}

async function main() {
  const config = benchConfig(DB_URL);
  // The app's connection settings (its statement timeout, no parallel workers): its plans.
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: DB_URL, ...connectionSettings(config) },
    pool: { min: 0, max: 2 },
  });
  const persons = createPersonRepository(createCipher(config.ENCRYPTION_KEY));
  const backlog = createBacklogRepository();
  const structure = await knex('structures').where({ slug: 'bench' }).first('id');
  const worker = await knex('users').where({ email: BENCH_EMAIL }).first('id');
  const structureId = structure.id as string;
  const { rows } = await knex.raw(
    'SELECT count(*) AS persons, (SELECT count(*) FROM contacts) AS contacts FROM persons',
  );
  console.log(`Database: ${rows[0].persons} persons, ${rows[0].contacts} contacts`);

  for (const q of ['lefevre', 'martin', 'mar']) {
    const sent = await capture(knex, () =>
      persons.search(knex, structureId, { q, page: 1, pageSize: 20 }),
    );
    await explain(knex, `search q=${q}`, sent);
  }
  await explain(
    knex,
    'duplicates lastName=lefevre birthYear=1960',
    await capture(knex, () =>
      persons.duplicates(
        knex,
        structureId,
        { lastName: 'lefevre', birthYear: 1960 },
        { limit: 10 },
      ),
    ),
  );

  // The service's bounds, from the same calendar (Paris midnights).
  const calendar = createBusinessCalendar();
  const now = new Date();
  const bounds = backlogBounds(calendar, now);
  const team = await knex('teams').where({ structure_id: structureId }).orderBy('id').first('id');
  const scopes = [
    ...(['assignee', 'team', 'district', 'partner'] as const).map((groupBy) => ({ groupBy })),
    { groupBy: 'assignee' as const, teamIds: [team.id as string] },
    { groupBy: 'district' as const, teamIds: [team.id as string] },
    { groupBy: 'partner' as const, teamIds: [team.id as string] },
  ];
  for (const s of scopes) {
    await explain(
      knex,
      `backlog groups by ${s.groupBy}${'teamIds' in s ? ' of a team' : ''}`,
      await capture(knex, () => backlog.groups(knex, { structureId, ...s }, bounds)),
    );
  }
  // The totals of the groupings whose groups overlap (by team, by partner), each item once.
  for (const teamId of [undefined, team.id as string]) {
    await explain(
      knex,
      `backlog totals${teamId ? ' of a team' : ''}`,
      await capture(knex, () =>
        backlog.totals(knex, { structureId, teamIds: teamId ? [teamId] : [] }, bounds),
      ),
    );
  }
  const partner = await knex('referrals')
    .where({ structure_id: structureId })
    .groupBy('partner_id')
    .orderByRaw('count(*) DESC')
    .first('partner_id');
  for (const [groupBy, key, who] of [
    ['assignee', worker.id, 'a worker'],
    ['partner', partner.partner_id, 'the busiest partner'],
  ] as const) {
    await explain(
      knex,
      `backlog items no_contact_90 (${who})`,
      await capture(knex, () =>
        backlog.items(knex, { structureId, groupBy }, bounds, 'no_contact_90', key as string, {
          page: 1,
          pageSize: 20,
        }),
      ),
    );
  }
  await knex.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
