import type { Knex } from 'knex';
import { createBacklogRepository } from '../../../server/features/backlog/backlog-repository';
import { OPEN_STATUSES, sqlStatusList } from '../../../server/features/referrals/referral-state';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam } from '../../setup/factories';
import {
  boundaryInstants,
  boundsAt,
  createCounterTeams,
  DAY,
  expectCountsAsOracle,
  LAST_AT,
  ACTIVE,
  NO_CONTACT_NOWS,
  NO_CONTACT_WHERE,
  noContactOracle,
  ZONES,
  rolledBack,
  waitsFor,
} from './backlog-oracle';
import { createPerson } from './helpers';

/**
 * Each referral carries copies of its person: the last contact (or the file's creation), whether
 * the file is active, its referent (triggers of migration 20261213100000). The backlog grouped by
 * partner counts its no-contact buckets from them. This builds referrals of every status over a
 * varied population, makes every kind of change the copies must follow (contacts logged,
 * deleted, moved in time and to another file; files closed, reopened, anonymised, their
 * creation and referent changed, one by one and in bulk; referrals moved to another file, their
 * copies written by hand, their statuses changed; a rolled-back transaction), then checks the
 * copies against the persons, and the backlog's counts and items by partner against the
 * per-person count they replaced, at several clocks, time zones and team filters.
 */
const NOWS = NO_CONTACT_NOWS;
const oracle = noContactOracle;
const OPEN = sqlStatusList(OPEN_STATUSES);
const STATUSES = [
  'requested',
  'accepted',
  'in_progress',
  'on_hold',
  'completed',
  'rejected',
  'cancelled',
  'failed',
  'expired',
];
/** The referrals whose copies differ from their person. */
const drift = async (k: Knex) =>
  (
    await k.raw(`
      SELECT r.id FROM referrals r JOIN persons p ON p.id = r.person_id
       WHERE (r.person_last_at, r.person_active, r.person_referent_id) IS DISTINCT FROM
             (${LAST_AT}, ${ACTIVE}, p.referent_id)`)
  ).rows as { id: string }[];

describe('backlog by partner: the referrals’ copies of their persons', () => {
  const clock = fixedClock(NOWS[0]);
  let ctx: TestContext;
  let k: Knex;
  let a: Awaited<ReturnType<typeof createTeam>>;
  let b: Awaited<ReturnType<typeof createTeam>>;
  let partners: string[];
  let teams: Awaited<ReturnType<typeof createCounterTeams>>;
  /** A person of structure a, and a consent to each partner, for the concurrency tests. */
  const referable = async (createdAt = '2025-01-01T00:00:00Z') => {
    const [p] = await k('persons').insert(
      {
        structure_id: a.structure.id,
        alias: 'Concurrence',
        source: 'outreach',
        referent_id: a.worker.id,
        created_at: new Date(createdAt),
      },
      ['id', 'structure_id'],
    );
    const [c] = await k('consents').insert(
      {
        structure_id: p.structure_id,
        person_id: p.id,
        purpose: 'referral',
        partner_id: partners[0],
        method: 'oral',
        given_at: new Date('2025-01-01'),
      },
      ['id'],
    );
    return { person: p as { id: string; structure_id: string }, consentId: c.id as string };
  };
  const referral = (
    p: { id: string; structure_id: string },
    consentId: string,
    partnerId: string,
    status: string,
  ) => ({
    structure_id: p.structure_id,
    person_id: p.id,
    partner_id: partnerId,
    consent_id: consentId,
    requester_id: a.worker.id,
    status,
    reason_enc: 'x',
  });
  const contact = (p: { id: string; structure_id: string }, at: number) => ({
    structure_id: p.structure_id,
    person_id: p.id,
    occurred_at: new Date(at),
    channel: 'phone',
    outcome: 'not_reached',
  });

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    k = testKnex();
    [a, b] = await Promise.all([createTeam(), createTeam()]);
    const s = a.structure.id;
    partners = [
      (await createPartner(k, undefined, s)).id,
      (await createPartner(k, undefined, s)).id,
      (await createPartner(k, undefined, s)).id,
    ];
    teams = await createCounterTeams(k, a, b);
    const referents = [a.worker.id, a.worker2.id, a.manager.id, null];

    // Every instant a no-contact boundary or the UTC midnight next to it falls on, either side.
    const times = boundaryInstants(NOWS, (bounds) => [bounds.contact30, bounds.contact90], 30);

    let n = 0;
    const insertPersons = async (createdAt: number[], structureId = s) =>
      (await k('persons').insert(
        createdAt.map((t) => {
          n += 1;
          return {
            structure_id: structureId,
            alias: `P${n}`,
            source: 'outreach',
            referent_id: structureId === s ? referents[n % referents.length] : b.worker.id,
            created_at: new Date(t),
          };
        }),
        ['id', 'structure_id'],
      )) as { id: string; structure_id: string }[];

    // Never contacted; contacted at each instant; a later contact then deleted.
    const never = await insertPersons(times);
    const contacted = await insertPersons(times.map(() => Date.parse('2024-06-01')));
    await k('contacts').insert(contacted.map((p, i) => contact(p, times[i])));
    const all = [...never, ...contacted];

    // Referrals: up to three a person, to the partners in turn (now and then two to the same
    // partner), every status in turn, each on a consent of its own.
    const consents = (await k('consents').insert(
      all.flatMap((p, i) =>
        [0, 1, 2].slice(0, i % 4).map((j) => ({
          structure_id: p.structure_id,
          person_id: p.id,
          purpose: 'referral',
          partner_id: partners[(i + j * (i % 5 === 0 ? 0 : 1)) % partners.length],
          method: 'oral',
          given_at: new Date('2025-01-01'),
        })),
      ),
      ['id', 'person_id', 'partner_id', 'structure_id'],
    )) as { id: string; person_id: string; partner_id: string; structure_id: string }[];
    await k('referrals').insert(
      consents.map((c, i) =>
        referral(
          { id: c.person_id, structure_id: c.structure_id },
          c.id,
          c.partner_id,
          STATUSES[i % STATUSES.length],
        ),
      ),
    );
    // Referrals written after the change they must follow: contacts logged after the referral,
    // deleted, moved in time (one by one) and to another file.
    const later = (await k('contacts').insert(
      never.map((p, i) => contact(p, times[i] + 3 * DAY)),
      ['id'],
    )) as { id: string }[];
    await k('contacts')
      .whereIn(
        'id',
        later.filter((_, i) => i % 2 === 0).map((r) => r.id),
      )
      .delete();
    for (const [i, p] of contacted.slice(0, 20).entries())
      await k('contacts')
        .where({ person_id: p.id })
        .update({ occurred_at: new Date(times[(i * 7) % times.length]) });
    await k('contacts').where({ person_id: contacted[21].id }).update({ person_id: never[3].id });

    const every = (m: number, from = 0) => all.filter((_, i) => i % m === from).map((p) => p.id);
    // Files closed, some reopened, anonymised; a file's creation moved.
    await k('persons')
      .whereIn('id', every(5))
      .update({ closed_at: new Date(NOWS[0]) });
    await k('persons').whereIn('id', every(10)).update({ closed_at: null });
    await k('persons')
      .whereIn('id', every(13, 1))
      .update({ anonymised_at: new Date(NOWS[0]) });
    await k('persons')
      .whereIn('id', every(17, 2))
      .update({ created_at: new Date(times[5]) });
    // Referents changed: in bulk, one by one, to none.
    await k('persons').whereIn('id', every(7, 2)).update({ referent_id: a.worker2.id });
    for (const id of every(11, 3)) await k('persons').where({ id }).update({ referent_id: null });
    // Referrals moved to another file (as a merge does), their copies written by hand (ignored),
    // their statuses moved on and back.
    const moved = await k('referrals')
      .whereIn('person_id', every(9, 4))
      .update({ person_id: never[7].id }, ['id']);
    expect(moved.length).toBeGreaterThan(0);
    await k('referrals')
      .whereIn('person_id', every(8, 1))
      .update({
        person_last_at: new Date('2000-01-01'),
        person_active: false,
        person_referent_id: null,
      });
    await k('referrals').whereIn('person_id', every(6, 5)).update({ status: 'completed' });
    await k('referrals').whereIn('person_id', every(12, 5)).update({ status: 'accepted' });
    // Files of the other structure, referred too.
    const others = await insertPersons(times.slice(0, 10), b.structure.id);
    const otherPartner = (await createPartner(k, undefined, b.structure.id)).id;
    const otherConsents = (await k('consents').insert(
      others.map((p) => ({
        structure_id: p.structure_id,
        person_id: p.id,
        purpose: 'referral',
        partner_id: otherPartner,
        method: 'oral',
        given_at: new Date('2025-01-01'),
      })),
      ['id', 'person_id'],
    )) as { id: string; person_id: string }[];
    await k('referrals').insert(
      otherConsents.map((c) =>
        referral(
          { id: c.person_id, structure_id: b.structure.id },
          c.id,
          otherPartner,
          'requested',
        ),
      ),
    );
    // A change rolled back leaves the copies as they were.
    await rolledBack(k, async (trx) => {
      await trx('persons')
        .whereIn('id', every(3))
        .update({ closed_at: new Date(NOWS[0]), referent_id: null });
      await trx('contacts').insert(all.slice(0, 30).map((p) => contact(p, Date.now())));
    });
  });
  afterAll(() => ctx.close());

  it('when every kind of change has happened, then every referral’s copies are its person’s', async () => {
    expect(await drift(k)).toEqual([]);
    const { rows } = await k.raw(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT person_active)::int AS inactive,
              count(DISTINCT person_referent_id)::int AS referents
         FROM referrals WHERE structure_id = ?`,
      [a.structure.id],
    );
    // The population is varied enough to mean something.
    expect(rows[0].n).toBeGreaterThan(200);
    expect(rows[0].inactive).toBeGreaterThan(20);
    expect(rows[0].referents).toBeGreaterThanOrEqual(3);
  });

  it('when counted by partner at each clock, time zone and team filter, then the no-contact counts are the per-person counts exactly', async () => {
    const scopes = [
      { structureId: a.structure.id, groupBy: 'partner' as const },
      { structureId: a.structure.id, groupBy: 'partner' as const, teamIds: [teams.x] },
      { structureId: a.structure.id, groupBy: 'partner' as const, teamIds: [teams.y] },
      { structureId: a.structure.id, groupBy: 'partner' as const, teamIds: [teams.x, teams.y] },
      { structureId: b.structure.id, groupBy: 'partner' as const },
      { structureId: b.structure.id, groupBy: 'partner' as const, teamIds: [teams.z] },
    ];
    const compared = await expectCountsAsOracle(
      k,
      NOWS,
      scopes,
      (bucket) => bucket.startsWith('no_contact'),
      oracle,
    );
    expect(compared.filter((want) => want.length > 0).length).toBeGreaterThan(
      NOWS.length * ZONES.length * 3,
    );
  });

  it('when a partner’s no-contact items are read, then they are the per-person rows, in order, with the count', async () => {
    const repo = createBacklogRepository();
    const bounds = boundsAt(new Date(NOWS[0]), 'Europe/Paris');
    let listed = 0;
    for (const teamId of [undefined, teams.y])
      for (const partnerId of partners)
        for (const bucket of ['no_contact_30', 'no_contact_90'] as const) {
          const { rows: want } = await k.raw(
            `SELECT p.id FROM persons p
              WHERE p.structure_id = :structureId AND ${ACTIVE} AND ${NO_CONTACT_WHERE[bucket]}
                AND EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = p.id
                  AND r.partner_id = :partnerId AND r.status IN ${OPEN})
                ${teamId ? 'AND p.referent_id IN (SELECT user_id FROM team_members WHERE team_id = :teamId)' : ''}
              ORDER BY ${LAST_AT}, p.id`,
            { ...bounds, structureId: a.structure.id, partnerId, teamId: teamId ?? null },
          );
          const got = await repo.items(
            k,
            { structureId: a.structure.id, groupBy: 'partner', teamIds: teamId ? [teamId] : [] },
            bounds,
            bucket,
            partnerId,
            { page: 1, pageSize: 500 },
          );
          expect({ partnerId, bucket, teamId, total: got.total }).toEqual({
            partnerId,
            bucket,
            teamId,
            total: want.length,
          });
          expect(got.items.map((i) => ('personId' in i ? i.personId : i.id))).toEqual(
            (want as { id: string }[]).map((r) => r.id),
          );
          listed += want.length;
        }
    expect(listed).toBeGreaterThan(50);
  });

  it('when a referral is written while its person’s change is not yet committed, then its copies wait for that change', async () => {
    const { person, consentId } = await referable();
    const trx = await k.transaction();
    try {
      // Another transaction logs a contact (the person's last contact moves, uncommitted).
      await trx('contacts').insert(contact(person, Date.parse('2026-11-20T09:00:00Z')));
      const inserted = k('referrals')
        .insert(referral(person, consentId, partners[0], 'requested'), ['id'])
        .then((rows) => rows[0].id as string);
      // The referral's copy waits for the person (FOR SHARE): still pending after a while.
      expect(await waitsFor(inserted)).toBe(true);
      await trx.commit();
      const id = await inserted;
      const row = await k('referrals').where({ id }).first('person_last_at');
      expect(new Date(row.person_last_at).toISOString()).toBe('2026-11-20T09:00:00.000Z');
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    expect(await drift(k)).toEqual([]);
  });

  it('when a person changes while a referral of theirs is not yet committed, then the change reaches the referral', async () => {
    const { person, consentId } = await referable();
    const trx = await k.transaction();
    try {
      await trx('referrals').insert(referral(person, consentId, partners[0], 'requested'));
      // Closing the file waits for the referral being written, then reaches it.
      const closed = k('persons')
        .where({ id: person.id })
        .update({ closed_at: new Date('2026-11-21T09:00:00Z') })
        .then((n) => n);
      expect(await waitsFor(closed)).toBe(true);
      await trx.commit();
      await closed;
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    const row = await k('referrals').where({ person_id: person.id }).first('person_active');
    expect(row.person_active).toBe(false);
    expect(await drift(k)).toEqual([]);
  });

  it('when a worker logs a contact through the API, then the file leaves its partner’s no-contact bucket', async () => {
    const worker = await loginAs(ctx.app, a.worker.email);
    const manager = await loginAs(ctx.app, a.manager.email);
    const p = await createPerson(worker, { alias: 'Orienté sans nouvelles' });
    await k('persons')
      .where({ id: p.id })
      .update({ created_at: new Date('2026-01-05T10:00:00Z') });
    const [c] = await k('consents').insert(
      {
        structure_id: a.structure.id,
        person_id: p.id,
        purpose: 'referral',
        partner_id: partners[2],
        method: 'oral',
        given_at: new Date('2026-01-05'),
      },
      ['id'],
    );
    await k('referrals').insert(
      referral({ id: p.id, structure_id: a.structure.id }, c.id, partners[2], 'accepted'),
    );
    const items = async () =>
      (
        await manager
          .get('/api/backlog/items')
          .query({ groupBy: 'partner', key: partners[2], bucket: 'no_contact_90', pageSize: 100 })
          .expect(200)
      ).body;
    const count = async () =>
      (
        await manager.get('/api/backlog').query({ groupBy: 'partner' }).expect(200)
      ).body.groups.find((g: { key: string }) => g.key === partners[2]).counts.no_contact_90;
    const before = await count();
    expect((await items()).items.map((i: { personId: string }) => i.personId)).toContain(p.id);

    await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ occurredAt: '2026-11-24T10:00:00+01:00', channel: 'street', outcome: 'reached' })
      .expect(201);

    expect(await count()).toBe(before - 1);
    expect((await items()).items.map((i: { personId: string }) => i.personId)).not.toContain(p.id);
  });
});
