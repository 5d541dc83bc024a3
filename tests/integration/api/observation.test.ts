import type { Knex } from 'knex';
import request from 'supertest';
import { createObservationRepository } from '../../../server/features/observation/observation-repository';
import { createBusinessCalendar } from '../../../server/lib/calendar';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createPartner, createTeam, createUser } from '../../setup/factories';
import { auditRows, type Agent } from './helpers';

/**
 * Saturday 28 November 2026, 23:00 in Paris (22:00 UTC): a Saturday night, clock fixed. The
 * period asked is 2026 up to today; the data below is placed in it, before it and after it.
 */
const NOW = '2026-11-28T22:00:00.000Z';
const PERIOD = 'from=2026-01-01&to=2026-11-28';

type Row = Record<string, unknown> & { key: string; label: string };

describe('GET /api/observation and its CSV (clock fixed on Saturday 2026-11-28 23:00 Paris)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let k: Knex;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let observer: Agent;
  let manager: Agent;
  let otherObserver: Agent;
  let north: { id: string };
  let south: { id: string };
  let partnerId: string;
  let teamId: string;

  const setThreshold = (structureId: string, n: number) =>
    k('structures')
      .where({ id: structureId })
      .update({ settings: JSON.stringify({ smallCountThreshold: n }) });

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    k = testKnex();
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [observer, manager, otherObserver] = await Promise.all([
      loginAs(ctx.app, team.observer.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, other.observer.email),
    ]);
    const s = team.structure.id;
    north = await createDistrict(s, 'Nord', true);
    south = await createDistrict(s, '=HYPERLINK("http://evil.test","Sud")', false);
    partnerId = (await createPartner(k, 'Banque alimentaire', s)).id;
    [{ id: teamId }] = await k('teams').insert({ structure_id: s, name: 'Équipe mobile' }, ['id']);
    await k('team_members').insert({ team_id: teamId, user_id: team.worker.id });

    const rights = new Map<string, string>(
      (await k('rights').where({ structure_id: s }).select('id', 'code')).map(
        (r: { id: string; code: string }) => [r.code, r.id],
      ),
    );

    const person = async (o: Record<string, unknown>, structureId = s): Promise<string> => {
      const [row] = await k('persons')
        .insert({
          structure_id: structureId,
          alias: 'Personne',
          source: 'outreach',
          referent_id: team.worker.id,
          created_at: '2026-03-02T09:00:00Z',
          ...o,
        })
        .returning('id');
      return row.id;
    };
    const contact = (personId: string, at: string, outcome = 'reached', structureId = s) =>
      k('contacts').insert({
        structure_id: structureId,
        person_id: personId,
        occurred_at: at,
        channel: 'street',
        outcome,
      });
    const right = async (
      personId: string,
      code: string,
      events: { status: string; reason?: string; cents?: number; at: string }[],
    ) => {
      // The right as it stands is its last change; every change is an event.
      const columns = (e: (typeof events)[number]) => ({
        structure_id: s,
        person_id: personId,
        right_id: rights.get(code),
        status: e.status,
        reason: e.reason ?? null,
        monthly_amount_cents: e.cents ?? null,
      });
      await k('person_rights').insert(columns(events[events.length - 1]));
      for (const e of events) await k('person_right_events').insert({ ...columns(e), at: e.at });
    };

    // Nord: 6 people identified in 2026, 4 first reached (after 0, 2, 4 and 10 days).
    const nord: string[] = [];
    for (let i = 0; i < 6; i++)
      nord.push(await person({ district_id: north.id, created_at: `2026-03-0${i + 2}T09:00:00Z` }));
    await contact(nord[0], '2026-03-02T15:00:00Z');
    await contact(nord[1], '2026-03-05T10:00:00Z', 'appointment_set');
    await contact(nord[2], '2026-03-08T10:00:00Z');
    await contact(nord[3], '2026-03-15T10:00:00Z');
    await contact(nord[4], '2026-03-15T10:00:00Z', 'not_reached');
    // Sud: 3 people from a partner; none in a team (their referent is worker2).
    const sud: string[] = [];
    for (let i = 0; i < 3; i++)
      sud.push(
        await person({ district_id: south.id, source: 'partner', referent_id: team.worker2.id }),
      );
    // No district: 2 people.
    const nowhere = [await person({}), await person({ referent_id: null })];
    // Identified in 2025, first reached in 2026: reached, not identified, in the period.
    const old = await person({ district_id: north.id, created_at: '2025-06-01T09:00:00Z' });
    await contact(old, '2026-02-01T10:00:00Z');
    // Identified after the period: never counted.
    await person({ district_id: north.id, created_at: '2026-11-29T09:00:00Z' });

    // Rights: RSA not claimed (non-knowledge) for the six of Nord; the APL obtained for
    // three, one of them changed after the period (it counts as it stood at the period's end).
    for (const id of nord)
      await right(id, 'rsa', [
        { status: 'not_claimed', reason: 'non_knowledge', at: '2026-04-01T10:00:00Z' },
      ]);
    await right(sud[0], 'apl', [
      { status: 'claim_in_progress', at: '2026-04-01T10:00:00Z' },
      { status: 'obtained', cents: 25000, at: '2026-05-01T10:00:00Z' },
    ]);
    await right(sud[1], 'apl', [{ status: 'obtained', cents: 30000, at: '2026-06-01T10:00:00Z' }]);
    await right(nowhere[0], 'apl', [
      { status: 'obtained', cents: 10000, at: '2026-06-01T10:00:00Z' },
      { status: 'refused', at: '2026-11-30T10:00:00Z' },
    ]);
    // A right last changed before the period is not the period's.
    await right(sud[2], 'css', [{ status: 'refused', at: '2025-12-01T10:00:00Z' }]);

    // Referrals to the partner, sent in the period: accepted after 1 and 3 business days
    // (a Friday to the next Monday is 1; Wednesday 11 November is a public holiday), rejected,
    // expired, waiting, withdrawn.
    const referral = async (personId: string, o: Record<string, unknown>) => {
      const [consent] = await k('consents')
        .insert({
          structure_id: s,
          person_id: personId,
          purpose: 'referral',
          partner_id: partnerId,
          method: 'oral',
          given_at: '2026-01-02T10:00:00Z',
        })
        .returning('id');
      await k('referrals').insert({
        structure_id: s,
        person_id: personId,
        partner_id: partnerId,
        consent_id: consent.id,
        requester_id: team.worker.id,
        reason_enc: 'x',
        ...o,
      });
    };
    await referral(nord[0], {
      status: 'accepted',
      created_at: '2026-11-06T10:00:00Z',
      responded_at: '2026-11-09T10:00:00Z',
    });
    await referral(nord[1], {
      status: 'completed',
      created_at: '2026-11-09T10:00:00Z',
      responded_at: '2026-11-13T10:00:00Z',
    });
    await referral(nord[2], {
      status: 'cancelled',
      created_at: '2026-11-09T10:00:00Z',
      responded_at: '2026-11-10T10:00:00Z',
    });
    await referral(nord[3], {
      status: 'rejected',
      created_at: '2026-11-09T10:00:00Z',
      responded_at: '2026-11-10T10:00:00Z',
    });
    await referral(sud[0], { status: 'expired', created_at: '2026-10-01T10:00:00Z' });
    await referral(sud[1], { status: 'requested', created_at: '2026-11-20T10:00:00Z' });
    await referral(sud[2], { status: 'cancelled', created_at: '2026-11-20T10:00:00Z' });
    // Sent before the period.
    await referral(nowhere[0], { status: 'requested', created_at: '2025-12-20T10:00:00Z' });

    // Another structure's people, rights and contacts, in the same period: never counted.
    for (let i = 0; i < 7; i++) {
      const id = await person({ referent_id: other.worker.id }, other.structure.id);
      await contact(id, '2026-03-05T10:00:00Z', 'reached', other.structure.id);
    }
  });
  afterAll(async () => ctx.close());

  it('counts in SQL the people, rights, amounts, medians and referrals of the period, of this structure only', async () => {
    const calendar = createBusinessCalendar();
    const businessDays: string[] = [];
    for (
      let d = new Date('2026-01-01T12:00:00Z');
      d <= new Date(NOW);
      d = new Date(d.getTime() + 86_400_000)
    )
      if (calendar.isBusinessDay(d)) businessDays.push(d.toISOString().slice(0, 10));
    const data = await createObservationRepository().aggregates(k, {
      structureId: team.structure.id,
      start: new Date('2025-12-31T23:00:00Z'),
      end: new Date('2026-11-28T23:00:00Z'),
      businessDays,
      firstDay: '2026-01-01',
      lastDay: '2026-11-28',
    });
    expect(data.totals).toEqual({
      counts: {
        identified: 11,
        reached: 5,
        claimInProgress: 0,
        obtained: 3,
        refused: 0,
        abandoned: 0,
        nonKnowledge: 6,
        nonRequest: 0,
        nonReceipt: 0,
        nonProposal: 0,
      },
      // Days to first contact: 0, 2, 4, 10 and 245 (identified in 2025): the median is 4.
      medianDays: 4,
      amountCents: 65000,
      amountPersons: 3,
    });
    expect(data.groups.district.get(north.id)!.counts).toMatchObject({
      identified: 6,
      reached: 5,
      nonKnowledge: 6,
    });
    expect(data.groups.district.get('none')!.counts).toMatchObject({ identified: 2, obtained: 1 });
    expect(data.groups.source.get('partner')!.counts).toMatchObject({ identified: 3, obtained: 2 });
    expect(data.groups.team.get(teamId)!.counts.identified).toBe(7);
    expect(data.groups.team.get('none')!.counts.identified).toBe(4);
    expect(data.groups.team.has('multiple')).toBe(false);
    const rsa = (await k('rights').where({ structure_id: team.structure.id, code: 'rsa' }).first())
      .id;
    expect(data.groups.right.get(rsa)!.counts).toMatchObject({ identified: 6, nonKnowledge: 6 });
    expect(data.partnerTotals).toEqual({
      counts: { sent: 7, accepted: 3, declined: 2, waiting: 1, withdrawn: 1 },
      // 1 (Friday to Monday), 3 (Monday to Friday over the 11 November holiday), 1 and 1.
      medianResponseDays: 1,
      responsePersons: 4,
    });
    expect([...data.partners.keys()]).toEqual([partnerId]);
  });

  describe('with a threshold of 2', () => {
    beforeAll(() => setThreshold(team.structure.id, 2));

    it('answers the totals, hiding what is under 2 and what would give it away', async () => {
      const res = await observer.get(`/api/observation?${PERIOD}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ from: '2026-01-01', to: '2026-11-28', by: null, rows: [] });
      expect(res.body.threshold).toBe(2);
      expect(res.body.totals).toMatchObject({
        identified: 11,
        reached: 5,
        notClaimed: 6,
        obtained: 3,
        claimInProgress: '< 2',
        // 0 is under the threshold too.
        nonRequest: '< 2',
        // The other three reasons are 0: the six would tell it (counts are never negative).
        nonKnowledge: '< 2',
        medianDaysToFirstContact: 4,
        // (250 + 300 + 100) € a month, a year.
        yearlyAmountObtained: 7800,
      });
    });

    it('by district: the QPV flag, a row for people without a district, rows adding up', async () => {
      const res = await observer.get(`/api/observation?${PERIOD}&by=district`);
      expect(res.status).toBe(200);
      const rows = res.body.rows as Row[];
      expect(rows.map((r) => [r.key, r.qpv])).toEqual([
        [south.id, false],
        [north.id, true],
        ['none', undefined],
      ]);
      expect(rows.map((r) => r.identified)).toEqual([3, 6, 2]);
      expect(rows[1].label).toBe('Nord');
      expect(rows[2].label).toBe('Non renseigné');
      // Nord holds all 5 people reached: the 0 of the others would be given away.
      expect(rows.map((r) => r.reached)).toEqual(['< 2', '< 2', '< 2']);
    });

    it('by team: the referent’s team, then several teams and none', async () => {
      const res = await manager.get(`/api/observation?${PERIOD}&by=team`);
      expect(res.status).toBe(200);
      const rows = res.body.rows as Row[];
      expect(rows.map((r) => [r.key, r.label])).toEqual([
        [teamId, 'Équipe mobile'],
        ['multiple', 'Plusieurs équipes'],
        ['none', 'Non renseigné'],
      ]);
      // 11 = 7 + 0 + 4: with the 0 hidden, the 4 is hidden with it.
      expect(rows.map((r) => r.identified)).toEqual([7, '< 2', '< 2']);
    });

    it('by right: one row per right of the catalogue, by code', async () => {
      const res = await observer.get(`/api/observation?${PERIOD}&by=right`);
      const rows = res.body.rows as Row[];
      const catalogue = await k('rights').where({ structure_id: team.structure.id }).count();
      expect(rows).toHaveLength(Number(catalogue[0].count));
      expect(rows.find((r) => r.key === 'rsa')).toMatchObject({
        label: 'Revenu de solidarité active (RSA)',
        identified: 6,
      });
      expect(rows.find((r) => r.key === 'css')).toMatchObject({ refused: '< 2' });
    });

    it('referrals by partner: outcomes and acceptance rate', async () => {
      const res = await observer.get(`/api/observation?${PERIOD}`);
      const { totals, rows } = res.body.partners;
      expect(totals).toMatchObject({
        sent: 7,
        accepted: 3,
        declined: 2,
        withdrawn: '< 2',
        waiting: '< 2',
        acceptanceRate: 0.6,
        medianResponseBusinessDays: 1,
      });
      expect(rows).toEqual([expect.objectContaining({ key: partnerId, sent: 7, accepted: 3 })]);
    });
  });

  describe('with the default threshold of 5', () => {
    beforeAll(() => k('structures').where({ id: team.structure.id }).update({ settings: '{}' }));

    it('shows "< 5" for every count under 5 and for what they could be recomputed from', async () => {
      const answers = await Promise.all(
        ['', '&by=district', '&by=source', '&by=team', '&by=right'].map((by) =>
          observer.get(`/api/observation?${PERIOD}${by}`),
        ),
      );
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.body.threshold).toBe(5);
        for (const row of [res.body.totals, ...res.body.rows])
          for (const [field, v] of Object.entries(row))
            if (
              typeof v === 'number' &&
              !['yearlyAmountObtained', 'medianDaysToFirstContact'].includes(field)
            )
              expect(v).toBeGreaterThanOrEqual(5);
        // The totals read the same whatever the grouping.
        expect(res.body.totals).toEqual(answers[0].body.totals);
      }
      const district = answers[1].body.rows as Row[];
      // Sud's 3 people are under 5, so another row is hidden with it: 11 - 6 would give it away.
      expect(district.find((r) => r.key === south.id)!.identified).toBe('< 5');
      const shown = district.filter((r) => typeof r.identified === 'number');
      expect(shown.length).toBeLessThanOrEqual(district.length - 2);
    });
  });

  it('another structure sees only its own people', async () => {
    const res = await otherObserver.get(`/api/observation?${PERIOD}&by=district`);
    expect(res.status).toBe(200);
    expect(res.body.totals.identified).toBe(7);
    expect(res.body.totals.reached).toBe(7);
    expect(res.body.rows.map((r: Row) => r.key)).toEqual(['none']);
    expect(res.body.partners.rows).toEqual([]);
  });

  it('answers 403 to workers, partners and admins, 401 without a session', async () => {
    const partnerUser = await createUser(team.structure.id, 'partner', { partnerId });
    for (const user of [team.worker, team.admin, partnerUser]) {
      const agent = await loginAs(ctx.app, user.email);
      expect((await agent.get(`/api/observation?${PERIOD}`)).status).toBe(403);
      expect((await agent.get(`/api/observation.csv?${PERIOD}`)).status).toBe(403);
    }
    expect((await request(ctx.app).get('/api/observation')).status).toBe(401);
    expect((await request(ctx.app).get('/api/observation.csv')).status).toBe(401);
  });

  it.each([
    ['from=2026-13-01', 'from'],
    ['from=2026-02-30', 'from'],
    ['to=yesterday', 'to'],
    ['from=2026-05-01&to=2026-04-30', 'to'],
    ['from=2000-01-01&to=2026-01-01', 'from'],
    // The default `to` is today: ten years and more before it is refused too.
    ['from=2000-01-01', 'from'],
    ['by=partner', 'by'],
    ['groupBy=district', 'groupBy'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    for (const path of ['/api/observation', '/api/observation.csv']) {
      const res = await observer.get(`${path}?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('defaults to the twelve months up to today', async () => {
    const res = await observer.get('/api/observation');
    expect(res.status).toBe(200);
    expect([res.body.from, res.body.to]).toEqual(['2025-11-29', '2026-11-28']);
  });

  it('writes every read to the audit trail with its period and grouping, as exports are, and not a refused one', async () => {
    const before = (await auditRows({ action: 'observation.read' })).length;
    expect((await observer.get(`/api/observation?${PERIOD}&by=district`)).status).toBe(200);
    expect((await observer.get('/api/observation?by=nope')).status).toBe(400);
    const page = await observer.get(`/observation?${PERIOD}&by=right`).set('accept', 'text/html');
    expect(page.status).toBe(200);
    const reads = await auditRows({ action: 'observation.read' });
    expect(reads).toHaveLength(before + 2);
    expect(reads.slice(-2).map((r) => [r.actor_id, r.subject_type, r.details])).toEqual([
      [team.observer.id, 'export', { from: '2026-01-01', to: '2026-11-28', by: 'district' }],
      [team.observer.id, 'export', { from: '2026-01-01', to: '2026-11-28', by: 'right' }],
    ]);
  });

  describe('CSV export', () => {
    it('answers the same suppressed values as the API, for Excel, formulas escaped, audited', async () => {
      const before = (await auditRows({ action: 'observation.export' })).length;
      const res = await manager
        .get(`/api/observation.csv?${PERIOD}&by=district`)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
      expect(res.headers['content-disposition']).toBe(
        'attachment; filename=observation-district-2026-01-01-2026-11-28.csv',
      );
      const bytes = res.body as Buffer;
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const lines = bytes.toString('utf8').slice(1).split('\r\n');
      expect(lines[0]).toMatch(/^Quartier;QPV;Personnes repérées;/);
      // The district named like a formula starts with a quote: a spreadsheet shows it as text.
      const sud = lines.find((l) => l.includes('HYPERLINK'))!;
      expect(sud.startsWith(`"'=HYPERLINK(""http://evil.test"",""Sud"")";non;< 5;`)).toBe(true);
      expect(lines.some((l) => /^Nord;oui;6;/.test(l))).toBe(true);
      const api = await manager.get(`/api/observation?${PERIOD}&by=district`);
      const total = lines.find((l) => l.startsWith('Total;'))!;
      expect(total.split(';')[2]).toBe(String(api.body.totals.identified));

      const audit = await auditRows({ action: 'observation.export' });
      expect(audit).toHaveLength(before + 1);
      expect(audit[audit.length - 1]).toMatchObject({
        actor_id: team.manager.id,
        structure_id: team.structure.id,
        subject_type: 'export',
        details: { format: 'csv', from: '2026-01-01', to: '2026-11-28', by: 'district' },
      });
    });

    it('is not audited when the parameters are refused', async () => {
      const before = (await auditRows({ action: 'observation.export' })).length;
      expect((await observer.get('/api/observation.csv?by=nope')).status).toBe(400);
      expect(await auditRows({ action: 'observation.export' })).toHaveLength(before);
    });
  });
});
