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
  perRowCounts,
  rolledBack,
  waitsFor,
} from './backlog-oracle';

/**
 * The follow-up buckets (overdue 0–7, 8–30, 31+ days, due this week) are read, by assignee and
 * by team, from counters kept by triggers on follow_ups (`backlog_follow_up_counts`). This builds
 * a varied population through every kind of change the counters must follow (follow-ups
 * created, completed, cancelled, reopened; reassigned and their due dates moved, one by one and
 * in bulk; deleted, with their person too; files anonymised, which cancels their open
 * follow-ups; moved to another file; their files' districts changed or deleted; a rolled-back
 * transaction), with due dates on each
 * side of every bucket boundary and of the UTC midnights next to them, then compares the
 * backlog's counts with the per-row count it replaced (the oracle below), for every grouping
 * and team filter, at several fixed clocks and in several time zones.
 */
const NOWS = [
  '2026-11-25T10:00:00.000Z', // Wednesday, winter time
  '2026-04-20T21:59:59.999Z', // the last moment of a Paris day (a Monday), summer time
  '2026-04-20T22:00:00.000Z', // the first moment of the next Paris day
  '2026-08-01T00:00:00.000Z', // a Saturday, at a UTC midnight
  '2026-03-29T00:30:00.000Z', // a Sunday night, the week's end an hour or so away
];
const FOLLOW_UP_BUCKETS = ['d0_7', 'd8_30', 'd31_plus', 'week'];

/** The follow-up counts as the backlog computed them before the counters, row by row. */
const oracle = (
  k: Knex,
  scope: Parameters<typeof perRowCounts>[2],
  b: Parameters<typeof perRowCounts>[3],
) =>
  perRowCounts(
    k,
    {
      from: 'follow_ups f',
      counted: "f.status = 'open'",
      owner: 'f.assignee_id',
      district: { join: 'JOIN persons p ON p.id = f.person_id', key: 'p.district_id' },
      buckets: {
        d0_7: 'f.due_at < :now AND f.due_at >= :late7',
        d8_30: 'f.due_at < :late7 AND f.due_at >= :late30',
        d31_plus: 'f.due_at < :late30',
        week: 'f.due_at >= :now AND f.due_at < :weekEnd',
      },
    },
    scope,
    b,
  );

describe('backlog follow-up counters', () => {
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
    // A follow-up counts in both teams of its assignee (createCounterTeams).
    teams = await createCounterTeams(k, a, b);
    const assignees = [a.worker.id, a.worker2.id, a.manager.id];

    // Every instant a boundary or the UTC midnight next to it falls on, and a moment either side.
    const times = boundaryInstants(
      NOWS,
      (bounds) => [bounds.late30, bounds.late7, bounds.now, bounds.weekEnd],
      60,
    );

    // Files of both structures, with districts, to hang the follow-ups on.
    const persons = (await k('persons').insert(
      Array.from({ length: 24 }, (_, i) => ({
        structure_id: i < 20 ? s : b.structure.id,
        alias: `F${i}`,
        source: 'outreach',
        district_id: i < 20 ? districts[i % districts.length] : null,
      })),
      ['id', 'structure_id'],
    )) as { id: string; structure_id: string }[];
    const ours = persons.filter((p) => p.structure_id === s);
    const theirs = persons.filter((p) => p.structure_id !== s);

    let n = 0;
    const followUp = (dueAt: number, structureId = s) => {
      n += 1;
      const person = structureId === s ? ours[n % ours.length] : theirs[n % theirs.length];
      return {
        structure_id: structureId,
        person_id: person.id,
        assignee_id: structureId === s ? assignees[n % assignees.length] : b.worker.id,
        title: `Rappel ${n}`,
        due_at: new Date(dueAt),
      };
    };
    const insert = async (
      rows: (ReturnType<typeof followUp> & { district_id?: string | null })[],
    ) => ((await k('follow_ups').insert(rows, ['id'])) as { id: string }[]).map((r) => r.id);

    // Open, inserted in one statement; and one by one.
    const open = await insert(times.map((t) => followUp(t)));
    for (const t of times.filter((_, i) => i % 4 === 0)) await insert([followUp(t)]);
    // Completed in bulk, some reopened; cancelled one by one.
    const done = await insert(times.map((t) => followUp(t)));
    await k('follow_ups')
      .whereIn('id', done)
      .update({ status: 'done', completed_at: new Date(NOWS[0]) });
    await k('follow_ups')
      .whereIn(
        'id',
        done.filter((_, i) => i % 3 === 0),
      )
      .update({ status: 'open', completed_at: null });
    const cancelled = await insert(times.map((t) => followUp(t)));
    for (const id of cancelled.filter((_, i) => i % 2 === 0))
      await k('follow_ups').where({ id }).update({ status: 'cancelled' });
    // Reassigned in bulk and one by one; a title edited (no count changes).
    await k('follow_ups')
      .whereIn(
        'id',
        open.filter((_, i) => i % 5 === 1),
      )
      .update({ assignee_id: a.worker2.id });
    for (const id of cancelled.filter((_, i) => i % 7 === 1))
      await k('follow_ups').where({ id }).update({ assignee_id: a.manager.id });
    await k('follow_ups').where({ id: open[0] }).update({ title: 'Autre' });
    // Due dates moved: in bulk by three days, one by one onto the instants, with a reassignment.
    const moved = await insert(times.map(() => followUp(Date.parse('2025-06-01'))));
    await k('follow_ups')
      .whereIn(
        'id',
        open.filter((_, i) => i % 6 === 2),
      )
      .update({ due_at: k.raw("due_at + interval '3 days'") });
    for (const [i, id] of moved.entries())
      await k('follow_ups')
        .where({ id })
        .update({ due_at: new Date(times[i]), assignee_id: assignees[(i + 1) % 3] });
    // Completed and moved at once; deleted in one statement.
    await k('follow_ups')
      .whereIn(
        'id',
        moved.filter((_, i) => i % 9 === 3),
      )
      .update({ status: 'done', due_at: new Date(times[0]) });
    await k('follow_ups')
      .whereIn(
        'id',
        open.filter((_, i) => i % 11 === 4),
      )
      .delete();
    // A file deleted: its follow-ups go with it (a cascade).
    await k('persons').where({ id: ours[5].id }).delete();
    ours.splice(5, 1);
    // A file anonymised as retention does it: titles blanked, then its open follow-ups cancelled.
    await k.transaction(async (trx) => {
      await trx('follow_ups').where({ person_id: ours[6].id }).update({ title: '—' });
      await trx('follow_ups')
        .where({ person_id: ours[6].id, status: 'open' })
        .update({ status: 'cancelled' });
    });
    // Follow-ups of the other structure.
    await insert(times.map((t) => followUp(t + DAY, b.structure.id)));
    // The files' districts changed (a follow-up carries its person's district): in bulk, one by
    // one, to none; a district deleted (its files are left without one); a follow-up written with
    // another district (the person's wins).
    await k('persons')
      .whereIn('id', [ours[1].id, ours[2].id, ours[4].id])
      .update({ district_id: districts[1] });
    await k('persons').where({ id: ours[7].id }).update({ district_id: null });
    await k('persons').where({ id: ours[8].id }).update({ district_id: districts[0] });
    const gone = (await createDistrict(s)).id;
    await k('persons').whereIn('id', [ours[9].id, ours[10].id]).update({ district_id: gone });
    await k('districts').where({ id: gone }).delete();
    const [written] = await insert([{ ...followUp(times[10]), district_id: districts[1] }]);
    await k('follow_ups').where({ id: written }).update({ district_id: districts[0] });
    // Follow-ups moved to another file, as a merge moves them: in bulk and one by one.
    await k('follow_ups').where({ person_id: ours[11].id }).update({ person_id: ours[12].id });
    for (const id of open.filter((_, i) => i % 13 === 5))
      await k('follow_ups').where({ id }).update({ person_id: ours[3].id });
    // A change rolled back leaves the counters as they were.
    await rolledBack(k, async (trx) => {
      await trx('follow_ups')
        .whereIn(
          'id',
          open.filter((_, i) => i % 3 === 0),
        )
        .update({ status: 'done' });
      await trx('follow_ups').insert(times.slice(0, 50).map((t) => followUp(t)));
    });
  });
  afterAll(() => ctx.close());

  it('when every kind of change has happened, then the counters equal a recount from follow_ups', async () => {
    const counted = `SELECT structure_id, assignee_id, week, due_day, follow_ups FROM backlog_follow_up_counts WHERE follow_ups <> 0`;
    // The total, the UTC day and the UTC week (from its Monday) of each open follow-up's due date.
    const recount = `SELECT f.structure_id, f.assignee_id, d.week, d.due_day, count(*)::int AS follow_ups
      FROM follow_ups f
      CROSS JOIN LATERAL (VALUES (false, NULL::date), (false, (f.due_at AT TIME ZONE 'UTC')::date),
        (true, date_trunc('week', f.due_at AT TIME ZONE 'UTC')::date)) d (week, due_day)
      WHERE f.status = 'open' GROUP BY 1, 2, 3, 4`;
    const diff = async (x: string, y: string) =>
      (await k.raw(`(${x}) EXCEPT ALL (${y})`)).rows as unknown[];
    expect(await diff(counted, recount)).toEqual([]);
    expect(await diff(recount, counted)).toEqual([]);
    expect(
      Number(
        (await k('backlog_follow_up_counts').whereNull('due_day').sum('follow_ups as n').first())
          ?.n,
      ),
    ).toBeGreaterThan(500);
  });

  it("when files' districts and follow-ups' files have changed, then every follow-up carries its person's district", async () => {
    const mismatched = await k('follow_ups as f')
      .join('persons as p', 'p.id', 'f.person_id')
      .whereRaw('f.district_id IS DISTINCT FROM p.district_id')
      .count<{ n: string }[]>({ n: '*' });
    expect(Number(mismatched[0].n)).toBe(0);
    const byDistrict = await k('follow_ups')
      .where({ structure_id: a.structure.id, status: 'open' })
      .groupBy('district_id')
      .select('district_id')
      .count<{ district_id: string | null; n: string }[]>({ n: '*' });
    // Open follow-ups in both districts and without one, so the district counts compared below
    // are not all of one group.
    expect(byDistrict.length).toBe(3);
    expect(byDistrict.every((r) => Number(r.n) > 20)).toBe(true);
  });

  it('when counted at each clock, time zone, grouping and team filter, then the counts are the per-row counts exactly', async () => {
    const scopes = [
      { structureId: a.structure.id, groupBy: 'assignee' as const },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.x] },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.y] },
      { structureId: a.structure.id, groupBy: 'assignee' as const, teamIds: [teams.x, teams.y] },
      { structureId: a.structure.id, groupBy: 'team' as const },
      { structureId: a.structure.id, groupBy: 'team' as const, teamIds: [teams.y] },
      { structureId: a.structure.id, groupBy: 'team' as const, teamIds: [teams.x, teams.y] },
      { structureId: a.structure.id, groupBy: 'district' as const },
      { structureId: a.structure.id, groupBy: 'district' as const, teamIds: [teams.x] },
      { structureId: b.structure.id, groupBy: 'district' as const },
      { structureId: b.structure.id, groupBy: 'assignee' as const },
      { structureId: b.structure.id, groupBy: 'team' as const, teamIds: [teams.z] },
    ];
    const compared = await expectCountsAsOracle(
      k,
      NOWS,
      scopes,
      (bucket) => FOLLOW_UP_BUCKETS.includes(bucket),
      oracle,
    );
    const counts: Record<string, number> = {};
    for (const r of compared.flat()) counts[r.bucket] = (counts[r.bucket] ?? 0) + 1;
    // Every bucket was non-empty for many of the clocks, zones and scopes compared.
    for (const bucket of FOLLOW_UP_BUCKETS)
      expect({ bucket, n: counts[bucket] > 40 }).toEqual({ bucket, n: true });
  });

  it('when a manager reads the backlog at fixed clocks, then its follow-up totals are the per-row counts', async () => {
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
        totals: expect.objectContaining(
          Object.fromEntries(FOLLOW_UP_BUCKETS.map((bucket) => [bucket, total(bucket)])),
        ),
      });
      expect(total('d8_30')).toBeGreaterThan(0);
    }
  });

  it("when a follow-up is written while its person's district change is not yet committed, then it carries the new district", async () => {
    const district = (await createDistrict(a.structure.id)).id;
    const [person] = await k('persons').insert(
      { structure_id: a.structure.id, alias: 'Concurrence', source: 'outreach' },
      ['id'],
    );
    const trx = await k.transaction();
    try {
      await trx('persons').where({ id: person.id }).update({ district_id: district });
      const written = k('follow_ups')
        .insert(
          {
            structure_id: a.structure.id,
            person_id: person.id,
            assignee_id: a.worker.id,
            title: 'Rappeler',
            due_at: new Date(NOWS[0]),
          },
          ['id'],
        )
        .then((rows) => rows);
      // The copy's read waits for the person's change (FOR SHARE, migration 20261213100000).
      expect(await waitsFor(written)).toBe(true);
      await trx.commit();
      const [{ id }] = await written;
      expect((await k('follow_ups').where({ id }).first('district_id')).district_id).toBe(district);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
  });

  // Last: it empties the tables the tests above read.
  it('when follow_ups, then persons, are truncated, then the matching counters are emptied with them', async () => {
    const rows = async (table: string) =>
      Number((await k(table).count<{ n: string }[]>({ n: '*' }))[0].n);
    expect(await rows('backlog_follow_up_counts')).toBeGreaterThan(0);
    expect(await rows('backlog_contact_counts')).toBeGreaterThan(0);
    await k.raw('TRUNCATE follow_ups CASCADE');
    expect(await rows('backlog_follow_up_counts')).toBe(0);
    expect(await rows('backlog_contact_counts')).toBeGreaterThan(0);
    await k.raw('TRUNCATE persons CASCADE');
    expect(await rows('backlog_contact_counts')).toBe(0);
  });
});
