import fc from 'fast-check';
import type { Knex } from 'knex';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import type { Actor } from '../../../server/auth/actor';
import {
  OBSERVATION_MAX_AGE_MS,
  OBSERVATION_REFRESH,
} from '../../../server/features/observation/observation-kinds';
import { PERSON_SOURCES } from '../../../server/features/persons/person-schemas';
import {
  OBSERVATION_GROUPINGS,
  type ObservationQuery,
} from '../../../server/features/observation/observation-schemas';
import type { Observation } from '../../../server/features/observation/observation-service';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createPartner, createTeam } from '../../setup/factories';
import type { Agent } from '../api/helpers';

/** Saturday 28 November 2026, 23:10 in Paris (22:10 UTC), clock fixed. */
const NOW = '2026-11-28T22:10:00.000Z';
/** A read after a write, more than an hour after NOW (a read is noted at most once an hour). */
const LATER = '2026-11-28T23:20:00.000Z';
/** The first full hour after LATER: the refresh the worker plans (01:00 in Paris). */
const NEXT_HOUR = '2026-11-29T00:00:00.000Z';

const DAY = 86_400_000;
const FIRST = Date.parse('2025-01-01T00:00:00Z');
const LAST = Date.parse('2026-11-28T20:00:00Z');

/** A small deterministic generator (mulberry32): the same data at every run. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    at: (from: number, to: number) => new Date(from + Math.floor(next() * (to - from))),
  };
}

type TeamFixture = Awaited<ReturnType<typeof createTeam>>;

/**
 * A structure's outreach over two years, drawn at random: people in three districts (or none),
 * from each source, followed by two workers of two teams (one in both) or nobody; contacts of
 * every outcome; rights with histories of one to three changes; referrals of every status.
 */
async function seed(k: Knex, team: TeamFixture, seedNumber: number, persons: number) {
  const r = random(seedNumber);
  const s = team.structure.id;
  const districts = [
    (await createDistrict(s, `Nord ${seedNumber}`, true)).id,
    (await createDistrict(s, `Sud ${seedNumber}`, false)).id,
    (await createDistrict(s, `Centre ${seedNumber}`, false)).id,
    null,
  ];
  const teams = await k('teams').insert(
    [
      { structure_id: s, name: 'Maraude' },
      { structure_id: s, name: 'Accueil' },
    ],
    ['id'],
  );
  await k('team_members').insert([
    { team_id: teams[0].id, user_id: team.worker.id },
    { team_id: teams[0].id, user_id: team.worker2.id },
    { team_id: teams[1].id, user_id: team.worker2.id },
  ]);
  const referents = [team.worker.id, team.worker2.id, team.manager.id, null];
  const rights = (await k('rights').where({ structure_id: s }).select('id')).map(
    (x: { id: string }) => x.id,
  );
  const partners = [
    (await createPartner(k, `Partenaire A ${seedNumber}`, s)).id,
    (await createPartner(k, `Partenaire B ${seedNumber}`, s)).id,
  ];

  const people = await k('persons').insert(
    Array.from({ length: persons }, () => ({
      structure_id: s,
      alias: 'Personne',
      source: r.pick(PERSON_SOURCES),
      district_id: r.pick(districts),
      referent_id: r.pick(referents),
      created_at: r.at(FIRST, LAST),
    })),
    ['id', 'created_at'],
  );
  const contacts: Record<string, unknown>[] = [];
  const rightRows: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  const referrals: { personId: string; createdAt: Date }[] = [];
  for (const p of people as { id: string; created_at: Date }[]) {
    const born = p.created_at.getTime();
    for (let i = r.int(4); i > 0; i--)
      contacts.push({
        structure_id: s,
        person_id: p.id,
        occurred_at: r.at(born, LAST + DAY),
        channel: 'street',
        outcome: r.pick(['reached', 'not_reached', 'refused', 'appointment_set']),
      });
    for (const rightId of rights.filter(() => r.next() < 0.15)) {
      let at = born;
      let last: Record<string, unknown> = {};
      for (let i = 1 + r.int(3); i > 0; i--) {
        // Sometimes two changes on one day: the later one is the day's.
        at = r.next() < 0.2 ? at + 3_600_000 : r.at(at, LAST).getTime();
        const status = r.pick([
          'not_claimed',
          'claim_in_progress',
          'obtained',
          'refused',
          'abandoned',
        ]);
        last = {
          structure_id: s,
          person_id: p.id,
          right_id: rightId,
          status,
          reason:
            status === 'not_claimed'
              ? r.pick(['non_knowledge', 'non_request', 'non_receipt', 'non_proposal'])
              : null,
          monthly_amount_cents: status === 'obtained' && r.next() < 0.8 ? 100 * r.int(600) : null,
        };
        events.push({ ...last, at: new Date(at) });
      }
      rightRows.push(last);
    }
    if (r.next() < 0.3) referrals.push({ personId: p.id, createdAt: r.at(born, LAST) });
  }
  if (contacts.length) await k.batchInsert('contacts', contacts, 500);
  if (rightRows.length) await k.batchInsert('person_rights', rightRows, 500);
  if (events.length) await k.batchInsert('person_right_events', events, 500);
  for (const ref of referrals) {
    const partnerId = r.pick(partners);
    const [consent] = await k('consents')
      .insert({
        structure_id: s,
        person_id: ref.personId,
        purpose: 'referral',
        partner_id: partnerId,
        method: 'oral',
        given_at: ref.createdAt,
      })
      .returning('id');
    const status = r.pick([
      'requested',
      'accepted',
      'rejected',
      'cancelled',
      'in_progress',
      'completed',
      'expired',
    ]);
    const answered = status !== 'requested' && status !== 'expired' && r.next() < 0.9;
    await k('referrals').insert({
      structure_id: s,
      person_id: ref.personId,
      partner_id: partnerId,
      consent_id: consent.id,
      requester_id: team.worker.id,
      reason_enc: 'x',
      status,
      created_at: ref.createdAt,
      responded_at: answered
        ? new Date(ref.createdAt.getTime() + r.int(15) * DAY + r.int(DAY))
        : null,
    });
  }
}

const actorOf = (user: { id: string }, structureId: string, role: 'manager' | 'observer') =>
  ({ id: user.id, structureId, role }) as unknown as Actor;

const withoutTime = ({ computedAt: _, ...rest }: Observation) => rest;

describe('Observation snapshots (clock fixed on Saturday 2026-11-28 23:10 Paris)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let k: Knex;
  let a: TeamFixture;
  let b: TeamFixture;
  let observerA: Agent;
  let observerB: Agent;

  const snapshots = (structureId: string) =>
    k('observation_snapshots')
      .where({ structure_id: structureId })
      .orderBy(['first_day', 'last_day'])
      .select(
        k.raw('first_day::text AS first_day'),
        k.raw('last_day::text AS last_day'),
        'computed_at',
        'read_at',
      );
  const pendingRefresh = (structureId: string) =>
    k('deadlines').where({ kind: OBSERVATION_REFRESH, subject_id: structureId, status: 'pending' });
  const live = (team: TeamFixture, q: ObservationQuery) =>
    ctx.deps.services.observation.live(actorOf(team.observer, team.structure.id, 'observer'), q);
  const query = (q: ObservationQuery) =>
    new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][]).toString();

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    k = testKnex();
    [a, b] = await Promise.all([createTeam(), createTeam()]);
    [observerA, observerB] = await Promise.all([
      loginAs(ctx.app, a.observer.email),
      loginAs(ctx.app, b.observer.email),
    ]);
    await seed(k, a, 13, 150);
    await seed(k, b, 31, 60);
    // A threshold of 2 shows more numbers: a difference would show more often.
    await k('structures')
      .whereIn('id', [a.structure.id, b.structure.id])
      .update({ settings: JSON.stringify({ smallCountThreshold: 2 }) });
  }, 120_000);
  afterAll(async () => ctx.close());

  it('answers, from the stored snapshot, exactly what the live computation gives, for random periods and every grouping', async () => {
    const day = fc
      .integer({ min: 0, max: Math.floor((LAST - FIRST) / DAY) + 40 })
      .map((n) => new Date(FIRST + n * DAY).toISOString().slice(0, 10));
    const by = fc.constantFrom(undefined, ...OBSERVATION_GROUPINGS);
    await fc.assert(
      fc.asyncProperty(day, day, by, async (d1, d2, g) => {
        const q: ObservationQuery = { from: d1 < d2 ? d1 : d2, to: d1 < d2 ? d2 : d1, by: g };
        // The first read computes and stores; the second is served from the snapshot.
        const first = await observerA.get(`/api/observation?${query(q)}`);
        const second = await observerA.get(`/api/observation?${query(q)}`);
        expect(first.status).toBe(200);
        expect(second.body).toEqual(first.body);
        expect(first.body.computedAt).toBe(NOW);
        expect(withoutTime(second.body)).toEqual(withoutTime(await live(a, q)));
      }),
      { numRuns: 15, seed: 1213 },
    );
    // Periods of the data and beyond it, the default one and a single day.
    for (const q of [
      {},
      { from: '2026-01-01', to: '2026-11-28' },
      { from: '2025-03-15', to: '2025-09-30' },
      { from: '2026-06-01', to: '2026-06-01' },
      { from: '2026-10-01', to: '2027-03-31' },
    ])
      for (const g of [undefined, ...OBSERVATION_GROUPINGS]) {
        const res = await observerA.get(`/api/observation?${query({ ...q, by: g })}`);
        expect(withoutTime(res.body)).toEqual(withoutTime(await live(a, { ...q, by: g })));
      }
  });

  it('scopes snapshots by structure: the same period reads each structure its own counts', async () => {
    const q = { from: '2026-01-01', to: '2026-11-28', by: 'district' as const };
    const [resA, resB] = await Promise.all([
      observerA.get(`/api/observation?${query(q)}`),
      observerB.get(`/api/observation?${query(q)}`),
    ]);
    expect(withoutTime(resB.body)).toEqual(withoutTime(await live(b, q)));
    expect(resB.body.totals).not.toEqual(resA.body.totals);
    const rowsB = await snapshots(b.structure.id);
    expect(rowsB.map((s) => [s.first_day, s.last_day])).toEqual([['2026-01-01', '2026-11-28']]);
  });

  it('keeps serving the snapshot after a write, until the hourly refresh computes it again', async () => {
    const q = { from: '2026-01-01', to: '2026-11-28' };
    const before = await observerA.get(`/api/observation?${query(q)}`);
    // Five people identified in the period after the snapshot.
    await k('persons').insert(
      Array.from({ length: 5 }, () => ({
        structure_id: a.structure.id,
        alias: 'Nouvelle',
        source: 'outreach',
        created_at: '2026-11-20T10:00:00Z',
      })),
    );
    clock.set(LATER);
    const stale = await observerA.get(`/api/observation?${query(q)}`);
    expect(stale.body).toEqual(before.body);
    expect(stale.body.computedAt).toBe(NOW);
    const fresh = await live(a, q);
    expect(fresh.totals.identified).toBe((before.body.totals.identified as number) + 5);

    // The worker plans one refresh per structure on the next full hour, once.
    expect(await ctx.deps.services.observation.ensurePlanned()).toBeGreaterThanOrEqual(2);
    expect(await ctx.deps.services.observation.ensurePlanned()).toBe(0);
    const [planned] = await pendingRefresh(a.structure.id);
    expect(planned.due_at).toEqual(new Date(NEXT_HOUR));

    clock.set(NEXT_HOUR);
    expect(await processDeadline(ctx.deps, processors, OBSERVATION_REFRESH, planned.id)).toBe(
      'done',
    );
    const after = await observerA.get(`/api/observation?${query(q)}`);
    expect(after.body.computedAt).toBe(NEXT_HOUR);
    expect(withoutTime(after.body)).toEqual(withoutTime(await live(a, q)));
    expect(after.body.totals.identified).toBe(fresh.totals.identified);
    // The default period is computed too (it is 29 November in Paris), and the next refresh is
    // planned an hour later; a second delivery does nothing.
    const periods = (await snapshots(a.structure.id)).map((s) => `${s.first_day}/${s.last_day}`);
    expect(periods).toContain('2025-11-30/2026-11-29');
    const next = await pendingRefresh(a.structure.id);
    expect(next.map((d) => d.due_at)).toEqual([new Date('2026-11-29T01:00:00.000Z')]);
    expect(await processDeadline(ctx.deps, processors, OBSERVATION_REFRESH, planned.id)).toBe(
      'not_pending',
    );
    // Structure B's snapshots were not touched by A's refresh.
    for (const s of await snapshots(b.structure.id)) expect(s.computed_at).toEqual(new Date(NOW));
  });

  it('computes the answer again at the read once its snapshot is too old (no refresh ran)', async () => {
    const q = { from: '2026-02-01', to: '2026-11-28', by: 'team' as const };
    const first = await observerB.get(`/api/observation?${query(q)}`);
    const computed = first.body.computedAt as string;
    clock.set(new Date(Date.parse(computed) + OBSERVATION_MAX_AGE_MS + 60_000));
    const later = await observerB.get(`/api/observation?${query(q)}`);
    expect(later.body.computedAt).toBe(clock.now().toISOString());
    expect(withoutTime(later.body)).toEqual(withoutTime(await live(b, q)));
  });

  it('drops, at a refresh, the periods nobody read for a week', async () => {
    const q = { from: '2025-05-01', to: '2025-05-31' };
    await observerB.get(`/api/observation?${query(q)}`);
    const read = clock.now();
    clock.set(new Date(read.getTime() + 8 * DAY));
    const trx = await k.transaction();
    try {
      await ctx.deps.services.observation.refreshStructure(trx, b.structure.id, clock.now());
      await trx.commit();
    } catch (err) {
      await trx.rollback();
      throw err;
    }
    const periods = (await snapshots(b.structure.id)).map((s) => `${s.first_day}/${s.last_day}`);
    expect(periods).not.toContain('2025-05-01/2025-05-31');
    // The default period of that day is kept.
    expect(periods).toHaveLength(1);
  });

  /** The refresh as the worker runs it, left open: its transaction holds the rows it wrote. */
  async function refreshLeftOpen(team: TeamFixture): Promise<Knex.Transaction> {
    const trx = await k.transaction();
    await ctx.deps.services.observation.refreshStructure(trx, team.structure.id, clock.now());
    return trx;
  }
  /** A read answered well before the requests' statement timeout (15 s): it waited for no lock. */
  async function readWithoutWaiting(agent: Agent, path: string) {
    const started = Date.now();
    const res = await agent.get(path);
    expect(Date.now() - started).toBeLessThan(10_000);
    return res;
  }

  it('serves a fresh snapshot while a refresh holds its row, the read left unnoted rather than waiting for it', async () => {
    const first = await observerA.get('/api/observation');
    expect(first.status).toBe(200);
    const key = {
      structure_id: a.structure.id,
      first_day: first.body.from,
      last_day: first.body.to,
    };
    const twoHoursAgo = new Date(clock.now().getTime() - 2 * 3_600_000);
    await k('observation_snapshots').where(key).update({ read_at: twoHoursAgo });
    const trx = await refreshLeftOpen(a);
    try {
      const res = await readWithoutWaiting(observerA, '/api/observation');
      expect(res.status).toBe(200);
      expect(res.body.totals).toEqual(first.body.totals);
    } finally {
      await trx.rollback();
    }
    // The next read, the refresh gone, notes it.
    await observerA.get('/api/observation');
    const [row] = await k('observation_snapshots').where(key);
    expect(row.read_at).toEqual(clock.now());
  });

  it('computes a too old snapshot again while a refresh holds its row, and serves it without storing it', async () => {
    const q = { from: '2026-03-01', to: '2026-09-30' };
    const first = await observerA.get(`/api/observation?${query(q)}`);
    expect(first.status).toBe(200);
    const key = { structure_id: a.structure.id, first_day: q.from, last_day: q.to };
    const tooOld = new Date(clock.now().getTime() - OBSERVATION_MAX_AGE_MS - 60_000);
    await k('observation_snapshots').where(key).update({ computed_at: tooOld });
    const trx = await refreshLeftOpen(a);
    try {
      const res = await readWithoutWaiting(observerA, `/api/observation?${query(q)}`);
      expect(res.status).toBe(200);
      expect(res.body.computedAt).toBe(clock.now().toISOString());
      expect(withoutTime(res.body)).toEqual(withoutTime(await live(a, q)));
    } finally {
      await trx.rollback();
    }
    const [row] = await k('observation_snapshots').where(key);
    expect(row.computed_at).toEqual(tooOld);
  });

  it('computes a period a refresh is storing for the first time without waiting for its commit', async () => {
    // A new day: the refresh inserts the new default period, not yet committed.
    clock.set(new Date(clock.now().getTime() + DAY));
    const trx = await refreshLeftOpen(a);
    try {
      const res = await readWithoutWaiting(observerA, '/api/observation');
      expect(res.status).toBe(200);
      expect(res.body.computedAt).toBe(clock.now().toISOString());
    } finally {
      await trx.rollback();
    }
  });
});
