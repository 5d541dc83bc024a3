import type { Knex } from 'knex';
import type { Actor } from '../../../server/auth/actor';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createTeam } from '../../setup/factories';
import {
  boundaryInstants,
  boundsAt,
  createCounterTeams,
  DAY,
  expectCountsAsOracle,
  LAST_AT,
  ACTIVE,
  NO_CONTACT_NOWS,
  noContactOracle,
  ZONES,
  rolledBack,
} from './backlog-oracle';

/**
 * The no-contact buckets are read from counters kept by triggers on persons
 * (`backlog_contact_counts`). This builds a varied population through every kind of change the
 * counters must follow (contacts logged, deleted, moved in time; files closed, reopened,
 * anonymised, deleted, moved to another structure; referents and districts changed, one by
 * one and in bulk; a rolled-back transaction), with last contacts placed on each side of every
 * bucket boundary and of the UTC midnights next to them, then compares the backlog's counts
 * with the per-person count it replaced (the oracle below), for every grouping and team filter,
 * at several fixed clocks and in several time zones (Paris in winter and summer time, Réunion,
 * Guyane, UTC).
 */
const NOWS = NO_CONTACT_NOWS;
const oracle = noContactOracle;

describe('backlog no-contact counters', () => {
  const clock = fixedClock(NOWS[0]);
  let ctx: TestContext;
  let k: Knex;
  let a: Awaited<ReturnType<typeof createTeam>>;
  let b: Awaited<ReturnType<typeof createTeam>>;
  let teams: Awaited<ReturnType<typeof createCounterTeams>>;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    k = testKnex();
    [a, b] = await Promise.all([createTeam(), createTeam()]);
    const s = a.structure.id;
    const districts = [(await createDistrict(s)).id, (await createDistrict(s)).id, null];
    // A file counts in both teams of its referent (createCounterTeams).
    teams = await createCounterTeams(k, a, b);
    const referents = [a.worker.id, a.worker2.id, a.manager.id, null];

    // Every instant a boundary or the UTC midnight next to it falls on, and a moment either side.
    const times = boundaryInstants(NOWS, (bounds) => [bounds.contact30, bounds.contact90], 40);

    let n = 0;
    const person = (createdAt: number, structureId = s) => {
      n += 1;
      return {
        structure_id: structureId,
        alias: `P${n}`,
        source: 'outreach',
        referent_id: structureId === s ? referents[n % referents.length] : b.worker.id,
        district_id: structureId === s ? districts[n % districts.length] : null,
        created_at: new Date(createdAt),
      };
    };
    const insertPersons = async (rows: ReturnType<typeof person>[]) =>
      (await k('persons').insert(rows, ['id', 'structure_id'])) as {
        id: string;
        structure_id: string;
      }[];
    const contact = (p: { id: string; structure_id: string }, at: number) => ({
      structure_id: p.structure_id,
      person_id: p.id,
      occurred_at: new Date(at),
      channel: 'phone',
      outcome: 'not_reached',
    });

    // Never contacted: the file's creation stands for the last contact (one bulk insert).
    const never = await insertPersons(times.map((t) => person(t)));
    // Contacted at each instant, the contacts logged in one statement for all.
    const contacted = await insertPersons(times.map(() => person(Date.parse('2024-06-01'))));
    await k('contacts').insert(contacted.map((p, i) => contact(p, times[i])));
    // A later contact deleted: the last contact falls back to the instant.
    const fallBack = await insertPersons(times.map(() => person(Date.parse('2024-06-01'))));
    await k('contacts').insert(fallBack.map((p, i) => contact(p, times[i])));
    const later = await k('contacts')
      .insert(
        fallBack.map((p, i) => contact(p, times[i] + 3 * DAY)),
        ['id'],
      )
      .then((rows: { id: string }[]) => rows.map((r) => r.id));
    await k('contacts').whereIn('id', later).delete();
    // Every contact deleted: back to the file's creation.
    const allDeleted = await insertPersons(times.map((t) => person(t)));
    await k('contacts').insert(allDeleted.map((p, i) => contact(p, times[i] + 10 * DAY)));
    await k('contacts')
      .whereIn(
        'person_id',
        allDeleted.map((p) => p.id),
      )
      .delete();
    // A contact moved in time, one by one.
    const moved = await insertPersons(times.map(() => person(Date.parse('2024-06-01'))));
    await k('contacts').insert(moved.map((p) => contact(p, Date.parse('2025-01-01'))));
    for (const [i, p] of moved.entries())
      await k('contacts')
        .where({ person_id: p.id })
        .update({ occurred_at: new Date(times[i]) });
    // A contact moved from one file to another.
    await k('contacts').where({ person_id: moved[0].id }).update({ person_id: never[1].id });

    const all = [...never, ...contacted, ...fallBack, ...allDeleted, ...moved];
    const every = (m: number, from = 0) => all.filter((_, i) => i % m === from).map((p) => p.id);
    // Files closed, some reopened; anonymised; a file closed then reopened in one transaction.
    await k('persons')
      .whereIn('id', every(5))
      .update({ closed_at: new Date(NOWS[0]) });
    await k('persons').whereIn('id', every(10)).update({ closed_at: null });
    await k('persons')
      .whereIn('id', every(13, 1))
      .update({ anonymised_at: new Date(NOWS[0]) });
    await k.transaction(async (trx) => {
      await trx('persons')
        .where({ id: never[2].id })
        .update({ closed_at: new Date(NOWS[0]) });
      await trx('contacts').insert(contact(never[2], times[3]));
      await trx('persons').where({ id: never[2].id }).update({ closed_at: null });
    });
    // Referents and districts changed: in bulk, one by one, to none.
    await k('persons').whereIn('id', every(7, 2)).update({ referent_id: a.worker2.id });
    await k('persons').whereIn('id', every(11, 3)).update({ referent_id: null });
    for (const id of every(17, 4)) await k('persons').where({ id }).update({ district_id: null });
    await k('persons').whereIn('id', every(9, 5)).update({ district_id: districts[1] });
    // Files deleted (their contacts go with them), in one statement.
    await k('persons').whereIn('id', every(19, 6)).delete();
    // Files moved to the other structure (no referent, no contact, no district there).
    const movable = never.slice(5, 15).map((p) => p.id);
    await k('persons')
      .whereIn('id', movable)
      .update({ structure_id: b.structure.id, referent_id: null, district_id: null });
    // Files of the other structure, with contacts.
    const others = await insertPersons(times.map((t) => person(t, b.structure.id)));
    await k('contacts').insert(others.map((p, i) => contact(p, times[i] + DAY)));
    // A change rolled back leaves the counters as they were.
    await rolledBack(k, async (trx) => {
      await trx('persons')
        .whereIn('id', every(3))
        .update({ closed_at: new Date(NOWS[0]) });
      await trx('contacts').insert(others.slice(0, 50).map((p) => contact(p, Date.now())));
    });
  });
  afterAll(() => ctx.close());

  it('when every kind of change has happened, then the counters equal a recount from persons', async () => {
    const counted = `SELECT structure_id, dimension, group_id, week, last_day, persons FROM backlog_contact_counts WHERE persons <> 0`;
    // The total, the UTC day and the UTC week (from its Monday) of each file's last contact.
    const recount = `SELECT p.structure_id, g.dimension, g.group_id, d.week, d.last_day, count(*)::int AS persons
      FROM persons p
      CROSS JOIN LATERAL (VALUES ('referent', p.referent_id), ('district', p.district_id)) g (dimension, group_id)
      CROSS JOIN LATERAL (VALUES (false, NULL::date), (false, (${LAST_AT} AT TIME ZONE 'UTC')::date),
        (true, date_trunc('week', ${LAST_AT} AT TIME ZONE 'UTC')::date)) d (week, last_day)
      WHERE ${ACTIVE} GROUP BY 1, 2, 3, 4, 5`;
    const diff = async (x: string, y: string) =>
      (await k.raw(`(${x}) EXCEPT ALL (${y})`)).rows as unknown[];
    expect(await diff(counted, recount)).toEqual([]);
    expect(await diff(recount, counted)).toEqual([]);
    expect(
      Number((await k('backlog_contact_counts').sum('persons as n').first())?.n),
    ).toBeGreaterThan(1000);
  });

  it('when counted at each clock, time zone, grouping and team filter, then the counts are the per-person counts exactly', async () => {
    const scopes = [
      { structureId: a.structure.id, groupBy: 'assignee' as const },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.x] },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.y] },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.x, teams.y] },
      { structureId: a.structure.id, groupBy: 'team' as const },
      { structureId: a.structure.id, groupBy: 'team' as const, teamIds: [teams.y] },
      { structureId: a.structure.id, groupBy: 'team' as const, teamIds: [teams.x, teams.y] },
      { structureId: a.structure.id, groupBy: 'district' as const },
      { structureId: a.structure.id, groupBy: 'district' as const, teamIds: [teams.y] },
      { structureId: b.structure.id, groupBy: 'assignee' as const },
      { structureId: b.structure.id, groupBy: 'team' as const, teamIds: [teams.z] },
      { structureId: b.structure.id, groupBy: 'district' as const },
    ];
    const compared = await expectCountsAsOracle(
      k,
      NOWS,
      scopes,
      (bucket) => bucket.startsWith('no_contact'),
      oracle,
    );
    expect(compared.filter((want) => want.length > 0).length).toBeGreaterThan(
      NOWS.length * ZONES.length * 8,
    );
  });

  it('when a manager reads the backlog at fixed clocks, then its no-contact totals are the per-person counts', async () => {
    const manager = {
      id: a.manager.id,
      structureId: a.structure.id,
      role: 'manager',
    } as unknown as Actor;
    for (const now of NOWS) {
      clock.set(now);
      const summary = await ctx.deps.services.backlog.summary(manager, { groupBy: 'assignee' });
      const want = await oracle(
        k,
        { structureId: a.structure.id, groupBy: 'assignee' },
        boundsAt(new Date(now), 'Europe/Paris'),
      );
      const total = (bucket: string) =>
        want.filter((r) => r.bucket === bucket).reduce((sum, r) => sum + r.count, 0);
      expect({ now, totals: summary.totals }).toEqual({
        now,
        totals: expect.objectContaining({
          no_contact_30: total('no_contact_30'),
          no_contact_90: total('no_contact_90'),
        }),
      });
      expect(total('no_contact_30')).toBeGreaterThan(0);
    }
  });
});
