import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createPartner, createTeam } from '../../setup/factories';
import { auditRows, type Agent } from './helpers';

/**
 * Wednesday 25 November 2026, 11:00 in Paris. The buckets are cut at Paris midnights:
 * 7 days late from 2026-11-18 00:00 (17 Nov 23:00 UTC), 31 days late before 2026-10-26 00:00
 * (25 Oct 23:00 UTC, winter time), this week until Monday 30 Nov 00:00 (29 Nov 23:00 UTC),
 * no contact for 30 days before 27 Oct 00:00 (26 Oct 23:00 UTC), for 90 days before
 * 28 Aug 00:00 (27 Aug 22:00 UTC, summer time).
 */
const NOW = '2026-11-25T10:00:00.000Z';
const BUCKETS = [
  'd0_7',
  'd8_30',
  'd31_plus',
  'week',
  'late_referrals',
  'no_contact_30',
  'no_contact_90',
  'reports',
] as const;

describe('manager backlog (clock fixed on Wednesday 2026-11-25 11:00 Paris)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let manager: Agent;
  let worker: Agent;
  const ids: Record<string, string> = {};
  let teamId: string;
  let districtId: string;
  let partnerId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [manager, worker] = await Promise.all([
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, team.worker.email),
    ]);
    const k = testKnex();
    const s = team.structure.id;
    districtId = (await createDistrict(s, 'Centre')).id;
    partnerId = (await createPartner(k, 'Banque alimentaire', s)).id;
    [{ id: teamId }] = await k('teams').insert({ structure_id: s, name: 'Équipe mobile' }, ['id']);
    await k('team_members').insert({ team_id: teamId, user_id: team.worker.id });

    // A recent file (no contact bucket) holding the follow-ups and referrals.
    const person = async (
      alias: string,
      o: Record<string, unknown> = {},
      structureId = s,
    ): Promise<string> => {
      const [row] = await k('persons')
        .insert({
          structure_id: structureId,
          alias,
          source: 'outreach',
          referent_id: team.worker.id,
          created_at: NOW,
          ...o,
        })
        .returning('id');
      return row.id;
    };
    const worked = await person('Suivi', { district_id: districtId });
    const worked2 = await person('Suivi 2', { referent_id: team.worker2.id });
    const followUp = async (name: string, dueAt: string, o: Record<string, unknown> = {}) => {
      const [row] = await k('follow_ups')
        .insert({
          structure_id: s,
          person_id: worked,
          assignee_id: team.worker.id,
          title: name,
          due_at: dueAt,
          ...o,
        })
        .returning('id');
      ids[name] = row.id;
    };
    await followUp('justLate', '2026-11-25T09:59:59Z');
    await followUp('dueNow', '2026-11-25T10:00:00Z');
    await followUp('late7', '2026-11-17T23:00:00Z');
    await followUp('late8', '2026-11-17T22:59:59Z');
    await followUp('late30', '2026-10-25T23:00:00Z', { assignee_id: team.worker2.id });
    await followUp('late31', '2026-10-25T22:59:59Z', { assignee_id: team.worker2.id });
    await followUp('sunday', '2026-11-29T22:59:59Z', {
      person_id: worked2,
      assignee_id: team.worker2.id,
    });
    await followUp('nextMonday', '2026-11-29T23:00:00Z');
    await followUp('doneLate', '2026-11-01T10:00:00Z', { status: 'done', completed_at: NOW });
    // Another structure's late follow-up is never counted.
    const foreign = await person('Ailleurs', { referent_id: other.worker.id }, other.structure.id);
    await k('follow_ups').insert({
      structure_id: other.structure.id,
      person_id: foreign,
      assignee_id: other.worker.id,
      title: 'ailleurs',
      due_at: '2026-11-20T10:00:00Z',
    });

    // No contact: the last contact, or the file's creation when there is none.
    const contacted = async (alias: string, at: string, o: Record<string, unknown> = {}) => {
      const id = await person(alias, { created_at: '2026-01-05T10:00:00Z', ...o });
      await k('contacts').insert([
        {
          structure_id: s,
          person_id: id,
          occurred_at: '2026-02-01T10:00:00Z',
          channel: 'street',
          outcome: 'reached',
        },
        {
          structure_id: s,
          person_id: id,
          occurred_at: at,
          channel: 'phone',
          outcome: 'not_reached',
        },
      ]);
      ids[alias] = id;
    };
    await contacted('contact29', '2026-10-26T23:00:00Z');
    await contacted('contact30', '2026-10-26T22:59:59Z', { district_id: districtId });
    await contacted('contact89', '2026-08-27T22:00:00Z');
    await contacted('contact90', '2026-08-27T21:59:59Z', { referent_id: null });
    ids.neverContacted = await person('Jamais', { created_at: '2026-01-05T10:00:00Z' });
    await person('Fermé', {
      created_at: '2026-01-05T10:00:00Z',
      closed_at: NOW,
      closed_reason: 'moved',
    });

    // Referrals waiting for an answer: late once the requester's escalation is due.
    const [consent] = await k('consents')
      .insert({
        structure_id: s,
        person_id: worked,
        purpose: 'referral',
        partner_id: partnerId,
        method: 'oral',
        given_at: '2026-11-01T10:00:00Z',
      })
      .returning('id');
    const referral = async (name: string, escalateAt: string, status = 'requested') => {
      const [row] = await k('referrals')
        .insert({
          structure_id: s,
          person_id: worked,
          partner_id: partnerId,
          consent_id: consent.id,
          requester_id: team.worker.id,
          status,
          reason_enc: 'x',
          created_at: '2026-11-10T10:00:00Z',
        })
        .returning('id');
      ids[name] = row.id;
      await k('deadlines').insert({
        structure_id: s,
        kind: 'referral.escalate_requester',
        subject_type: 'referral',
        subject_id: row.id,
        due_at: escalateAt,
        status: escalateAt <= NOW ? 'done' : 'pending',
      });
    };
    await referral('lateReferral', '2026-11-25T10:00:00Z');
    await referral('waitingReferral', '2026-11-25T10:00:01Z');
    await referral('acceptedReferral', '2026-11-20T10:00:00Z', 'accepted');
  });
  afterAll(() => ctx.close());

  const counts = async (query: Record<string, string> = {}) => {
    const res = await manager.get('/api/backlog').query(query);
    expect(res.status).toBe(200);
    return res.body as {
      groups: { key: string; label: string | null; counts: Record<string, number> }[];
      totals: Record<string, number>;
    };
  };
  const items = async (query: Record<string, string | number>) => {
    const res = await manager.get('/api/backlog/items').query({ pageSize: 100, ...query });
    expect(res.status).toBe(200);
    return res.body as { items: { id: string; type: string }[]; total: number };
  };
  const idsOf = (...names: string[]) => names.map((n) => ids[n]).sort();

  it('when grouped by assignee, then each bucket holds the items on its side of each boundary', async () => {
    const body = await counts();
    const w = body.groups.find((g) => g.key === team.worker.id)!;
    const w2 = body.groups.find((g) => g.key === team.worker2.id)!;
    expect(w.label).toBe(team.worker.name);
    expect(w.counts).toEqual({
      d0_7: 2, // justLate, late7
      d8_30: 1, // late8
      d31_plus: 0,
      week: 1, // dueNow (nextMonday is next week)
      late_referrals: 1,
      no_contact_30: 2, // contact30, contact89
      no_contact_90: 1, // neverContacted (contact90 has no référent)
      reports: 0,
    });
    expect(w2.counts).toMatchObject({ d8_30: 1, d31_plus: 1, week: 1, d0_7: 0 });
    expect(body.groups.find((g) => g.key === 'none')!.counts.no_contact_90).toBe(1);

    expect(
      (await items({ key: team.worker.id, bucket: 'd0_7' })).items.map((i) => i.id).sort(),
    ).toEqual(idsOf('justLate', 'late7'));
    expect((await items({ key: team.worker.id, bucket: 'd8_30' })).items.map((i) => i.id)).toEqual(
      idsOf('late8'),
    );
    expect((await items({ key: team.worker2.id, bucket: 'd8_30' })).items.map((i) => i.id)).toEqual(
      idsOf('late30'),
    );
    expect(
      (await items({ key: team.worker2.id, bucket: 'd31_plus' })).items.map((i) => i.id),
    ).toEqual(idsOf('late31'));
    expect((await items({ key: team.worker.id, bucket: 'week' })).items.map((i) => i.id)).toEqual(
      idsOf('dueNow'),
    );
    expect((await items({ key: team.worker2.id, bucket: 'week' })).items.map((i) => i.id)).toEqual(
      idsOf('sunday'),
    );
    expect(
      (await items({ key: team.worker.id, bucket: 'late_referrals' })).items.map((i) => i.id),
    ).toEqual(idsOf('lateReferral'));
    expect(
      (await items({ key: team.worker.id, bucket: 'no_contact_30' })).items.map((i) => i.id).sort(),
    ).toEqual(idsOf('contact30', 'contact89'));
    expect((await items({ key: 'none', bucket: 'no_contact_90' })).items.map((i) => i.id)).toEqual(
      idsOf('contact90'),
    );
  });

  it.each(['assignee', 'team', 'district', 'partner'])(
    'when grouped by %s, then every number equals the items behind it',
    async (groupBy) => {
      const body = await counts({ groupBy });
      expect(body.groups.length).toBeGreaterThan(0);
      for (const g of body.groups) {
        for (const bucket of BUCKETS) {
          const res = await items({ groupBy, key: g.key, bucket });
          expect({ key: g.key, bucket, n: res.total }).toEqual({
            key: g.key,
            bucket,
            n: g.counts[bucket],
          });
          expect(res.items).toHaveLength(g.counts[bucket]);
        }
      }
    },
  );

  it('when the clock crosses a Paris midnight between two reads, then the buckets move at that midnight, not before', async () => {
    const late = async (bucket: string) =>
      (await items({ key: team.worker.id, bucket })).items.map((i) => i.id);
    const workerCounts = async () =>
      (await counts()).groups.find((g) => g.key === team.worker.id)!.counts;
    try {
      // Due at 18 Nov 00:00 Paris: 0 to 7 days late until 25 Nov ends, 8 to 30 days from 26 Nov.
      clock.set('2026-11-25T22:59:59.999Z');
      expect(await late('d0_7')).toContain(ids.late7);
      expect((await workerCounts()).d8_30).toBe(1);
      clock.set('2026-11-25T23:00:00.000Z');
      expect(await late('d0_7')).not.toContain(ids.late7);
      expect(await late('d8_30')).toContain(ids.late7);
      expect((await workerCounts()).d8_30).toBe(2);
      // And back: a clock set earlier reads that day's buckets again.
      clock.set(NOW);
      expect(await late('d0_7')).toContain(ids.late7);
      expect((await workerCounts()).d8_30).toBe(1);
    } finally {
      clock.set(NOW);
    }
  });

  it('when grouped by team, district or partner, then the groups are the team, the district and the partner', async () => {
    const byTeam = await counts({ groupBy: 'team' });
    // worker2 is in no team, and a file without a référent has no one's team: "none", not lost.
    expect(byTeam.groups.map((g) => [g.key, g.label])).toEqual([
      [teamId, 'Équipe mobile'],
      ['none', null],
    ]);
    expect(byTeam.groups[0].counts.d0_7).toBe(2);
    expect(byTeam.groups[1].counts).toMatchObject({ d8_30: 1, d31_plus: 1, no_contact_90: 1 });
    expect(
      (await items({ groupBy: 'team', key: 'none', bucket: 'd31_plus' })).items.map((i) => i.id),
    ).toEqual(idsOf('late31'));
    const byDistrict = await counts({ groupBy: 'district' });
    const centre = byDistrict.groups.find((g) => g.key === districtId)!;
    expect(centre.label).toBe('Centre');
    expect(centre.counts).toMatchObject({ d0_7: 2, d8_30: 2, d31_plus: 1, no_contact_30: 1 });
    const byPartner = await counts({ groupBy: 'partner' });
    expect(byPartner.groups.map((g) => g.key)).toEqual([partnerId]);
    expect(byPartner.groups[0].counts).toMatchObject({ late_referrals: 1, d0_7: 2 });
    // Whatever the grouping, the totals are the structure's open work, each item once.
    const byAssignee = await counts();
    for (const body of [byTeam, byDistrict, byPartner])
      expect(body.totals).toEqual(byAssignee.totals);
  });

  it('when filtered by a team, then only its members count; a team of another structure is 404', async () => {
    const body = await counts({ teamId });
    expect(body.groups.map((g) => g.key)).toEqual([team.worker.id]);
    // A member of two teams counts in each; filtered by one team, only that team shows.
    const [{ id: second }] = await testKnex()('teams')
      .insert({ structure_id: team.structure.id, name: 'Accueil' })
      .returning('id');
    await testKnex()('team_members').insert({ team_id: second, user_id: team.worker.id });
    const both = await counts({ groupBy: 'team' });
    expect(both.groups.map((g) => g.label)).toEqual(['Accueil', 'Équipe mobile', null]);
    // Their late follow-ups show in each team; the totals count them once.
    expect(both.groups.slice(0, 2).map((g) => g.counts.d0_7)).toEqual([2, 2]);
    expect(both.totals).toEqual((await counts()).totals);
    const one = await counts({ groupBy: 'team', teamId });
    expect(one.groups.map((g) => g.key)).toEqual([teamId]);
    await testKnex()('team_members').where({ team_id: second }).del();
    await testKnex()('teams').where({ id: second }).del();
    const foreign = await testKnex()('teams')
      .insert({ structure_id: other.structure.id, name: 'Accueil' })
      .returning('id');
    const res = await manager.get('/api/backlog').query({ teamId: foreign[0].id });
    expect(res.status).toBe(404);
  });

  it('when teamId is repeated, then the members of either team count, each item once, and the items follow; a team of another structure among them is 404', async () => {
    const k = testKnex();
    const [{ id: evening }] = await k('teams')
      .insert({ structure_id: team.structure.id, name: 'Équipe du soir' })
      .returning('id');
    // worker is in both teams: their work counts once.
    await k('team_members').insert(
      [team.worker.id, team.worker2.id].map((user_id) => ({ team_id: evening, user_id })),
    );
    try {
      const res = await manager.get('/api/backlog').query(`teamId=${teamId}&teamId=${evening}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ teamId: null, teamIds: [teamId, evening] });
      const whole = await counts();
      const staff = whole.groups.filter((g) => g.key !== 'none');
      expect(res.body.groups).toEqual(staff);
      expect(res.body.totals.d0_7).toBe(2);
      expect(res.body.totals.d8_30).toBe(whole.totals.d8_30);
      // By team, each team shows its members' work; the total counts each item once.
      const byTeam = await manager
        .get('/api/backlog')
        .query(`groupBy=team&teamId=${teamId}&teamId=${evening}`);
      expect(byTeam.body.groups.map((g: { key: string }) => g.key).sort()).toEqual(
        [teamId, evening].sort(),
      );
      expect(byTeam.body.totals).toEqual(res.body.totals);
      // The items behind a number of the two teams' backlog.
      const listed = await manager
        .get('/api/backlog/items')
        .query(`teamId=${teamId}&teamId=${evening}&key=${team.worker2.id}&bucket=d8_30`);
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([ids.late30]);
      const [{ id: foreign }] = await k('teams')
        .insert({ structure_id: other.structure.id, name: 'Ailleurs' })
        .returning('id');
      expect(
        (await manager.get('/api/backlog').query(`teamId=${teamId}&teamId=${foreign}`)).status,
      ).toBe(404);
    } finally {
      await k('team_members').where({ team_id: evening }).del();
      await k('teams').where({ id: evening }).del();
    }
  });

  it('when the items are read, then the read is audited with the persons shown', async () => {
    await items({ key: team.worker.id, bucket: 'no_contact_30' });
    const rows = await auditRows({ action: 'backlog.items', actor_id: team.manager.id });
    expect(rows.at(-1).details.ids.sort()).toEqual(idsOf('contact30', 'contact89'));
  });

  it('when a worker asks, then 403; a bad groupBy or bucket is a 400 naming the field', async () => {
    expect((await worker.get('/api/backlog')).status).toBe(403);
    const bad = await manager.get('/api/backlog').query({ groupBy: 'city' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('groupBy');
    const badBucket = await manager
      .get('/api/backlog/items')
      .query({ key: 'none', bucket: 'late' });
    expect(badBucket.status).toBe(400);
    expect(JSON.stringify(badBucket.body)).toContain('bucket');
  });
});
