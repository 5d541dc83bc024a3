/**
 * The observation's cost at scale (issue 13), read only: `npx tsx bench/observation.ts` with
 * BENCH_DATABASE_URL (default the bench database) and optionally FROM and TO (YYYY-MM-DD, default
 * the twelve months up to today) and RUNS (3). On the `bench` structure it times the three live
 * aggregate statements side by side (as a read without a snapshot) and one after the other in a
 * transaction (as the hourly refresh), then what a read served from a snapshot still does: the
 * label queries and the suppression. It writes nothing, so it runs on a database of any schema
 * version that has the observation's tables.
 */
import knexFactory from 'knex';
import { DateTime } from 'luxon';
import { createObservationRepository } from '../server/features/observation/observation-repository';
import { NO_KEY, SEVERAL_TEAMS_KEY } from '../server/features/observation/observation-schemas';
import { publishObservation } from '../server/features/observation/observation-table';
import { createBusinessCalendar } from '../server/lib/calendar';
import { dayStart } from '../server/lib/wall-clock';

const DB_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/aller_vers_bench';
const RUNS = Number(process.env.RUNS ?? 3);

async function main() {
  const today = DateTime.now().setZone('Europe/Paris').toISODate()!;
  const to = process.env.TO ?? today;
  const from =
    process.env.FROM ?? DateTime.fromISO(to).minus({ years: 1 }).plus({ days: 1 }).toISODate()!;
  const lastDay = to > today ? to : today;
  const calendar = createBusinessCalendar();
  const businessDays: string[] = [];
  for (let d = DateTime.fromISO(from); d.toISODate()! <= lastDay; d = d.plus({ days: 1 }))
    if (calendar.isBusinessDay(d.set({ hour: 12 }).toJSDate())) businessDays.push(d.toISODate()!);

  const knex = knexFactory({ client: 'pg', connection: DB_URL, pool: { min: 0, max: 4 } });
  try {
    const s = await knex('structures').where({ slug: 'bench' }).first('id');
    if (!s) throw new Error('No bench structure: run npm run cli -- bench:seed first');
    const period = {
      structureId: s.id as string,
      start: dayStart(from),
      end: dayStart(to, 1),
      businessDays,
      firstDay: from,
      lastDay,
    };
    const repo = createObservationRepository();
    console.log(`Observation of ${from} to ${to}, ${RUNS} runs each`);
    let data = await repo.aggregates(knex, period);
    for (let i = 0; i < RUNS; i++) {
      const t = Date.now();
      data = await repo.aggregates(knex, period);
      console.log(`live, side by side: ${Date.now() - t} ms`);
    }
    for (let i = 0; i < RUNS; i++) {
      const t = Date.now();
      await knex.transaction((trx) => repo.aggregates(trx, period));
      console.log(`live, one after the other in a transaction: ${Date.now() - t} ms`);
    }
    for (let i = 0; i < RUNS; i++) {
      let t = Date.now();
      const dims = await repo.dimensions(knex, period.structureId);
      const labels = Date.now() - t;
      t = Date.now();
      const none = { key: NO_KEY, label: '' };
      publishObservation(
        data,
        {
          rows: {
            district: [...dims.districts, none],
            right: dims.rights.map((r) => ({ key: r.id, label: r.label })),
            source: [...data.groups.source.keys()].map((key) => ({ key, label: key })),
            team: [...dims.teams, { key: SEVERAL_TEAMS_KEY, label: '' }, none],
          },
          partners: dims.partners,
        },
        5,
      );
      console.log(`from a snapshot: labels ${labels} ms, suppression ${Date.now() - t} ms`);
    }
    const sizes = Object.entries(data.groups).map(([g, m]) => `${m.size} ${g}`);
    console.log(`rows: ${sizes.join(', ')}, ${data.partners.size} partners`);
  } finally {
    await knex.destroy();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
