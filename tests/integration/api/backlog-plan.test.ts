import { OPEN_STATUSES } from '../../../server/features/referrals/referral-state';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { capture, explain, knexSql, planNodes } from '../../setup/plans';

/**
 * The backlog is computed in SQL on indexes: this reads the plans PostgreSQL makes for the very
 * queries the endpoints send, over a database of ten structures (no timing), and fails on a
 * sequential scan of follow-ups, persons, contacts or referrals. (Small tables, teams and their
 * members, and the deadlines of this small fixture, may be read whole: that is the cheaper plan
 * there.)
 */
const TABLES = ['follow_ups', 'persons', 'contacts', 'referrals'];

describe('backlog query plans', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-11-25T10:00:00Z') });
  });
  afterAll(() => ctx.close());

  it('when a manager reads the backlog and its items, then no query scans a whole table', async () => {
    const teams = await Promise.all(Array.from({ length: 10 }, () => createTeam()));
    const k = testKnex();
    for (const t of teams) {
      await k.raw(
        `INSERT INTO persons (structure_id, alias, source, referent_id, created_at)
         SELECT ?, 'P' || g, 'outreach', CASE WHEN g % 2 = 0 THEN ?::uuid ELSE ?::uuid END,
                timestamptz '2026-01-01' + g * interval '1 hour'
         FROM generate_series(1, 1500) g`,
        [t.structure.id, t.worker.id, t.worker2.id],
      );
      await k.raw(
        `INSERT INTO follow_ups (structure_id, person_id, assignee_id, title, due_at, status)
         SELECT p.structure_id, p.id, p.referent_id, 'Rappeler',
                timestamptz '2026-09-01' + (row_number() OVER ()) * interval '37 minutes',
                CASE WHEN random() < 0.7 THEN 'done' ELSE 'open' END
         FROM persons p, generate_series(1, 2) g WHERE p.structure_id = ?`,
        [t.structure.id],
      );
      await k.raw(
        `INSERT INTO contacts (structure_id, person_id, occurred_at, channel, outcome)
         SELECT p.structure_id, p.id, timestamptz '2026-06-01' + (row_number() OVER ()) * interval '2 hours',
                'phone', 'reached'
         FROM persons p, generate_series(1, 2) g WHERE p.structure_id = ?`,
        [t.structure.id],
      );
      const [partner] = await k('partners')
        .insert({
          name: `Partenaire ${t.structure.id}`,
          email: 'p@partner.test',
          structure_id: t.structure.id,
        })
        .returning('id');
      await k.raw(
        `INSERT INTO consents (structure_id, person_id, purpose, partner_id, method, given_at)
         SELECT p.structure_id, p.id, 'referral', ?, 'oral', timestamptz '2026-06-01'
         FROM persons p WHERE p.structure_id = ? AND p.alias LIKE 'P%0'`,
        [partner.id, t.structure.id],
      );
      await k.raw(
        `INSERT INTO referrals (structure_id, person_id, partner_id, consent_id, requester_id, status, reason_enc, created_at)
         SELECT c.structure_id, c.person_id, c.partner_id, c.id, ?,
                CASE WHEN random() < 0.3 THEN 'requested' ELSE 'completed' END, 'x', timestamptz '2026-10-01'
         FROM consents c WHERE c.structure_id = ?`,
        [t.worker.id, t.structure.id],
      );
      await k.raw(
        `INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at, status)
         SELECT r.structure_id, kind, 'referral', r.id, timestamptz '2026-10-08', 'done'
         FROM referrals r, unnest(ARRAY['referral.escalate_requester', 'referral.expire', 'referral.email_partner']) kind
         WHERE r.structure_id = ?`,
        [t.structure.id],
      );
    }
    await k.raw('ANALYZE deadlines');
    await k.raw('ANALYZE consents');
    await k.raw('ANALYZE partners');
    await k.raw('ANALYZE persons');
    await k.raw('ANALYZE follow_ups');
    await k.raw('ANALYZE contacts');
    await k.raw('ANALYZE referrals');

    const team = teams[0];
    const sent = await capture(
      ctx.deps.knex,
      /follow_ups f|referrals r|coalesce\(p\.last_contact_at/,
      async () => {
        const manager = await loginAs(ctx.app, team.manager.email);
        for (const groupBy of ['assignee', 'team', 'district', 'partner']) {
          expect((await manager.get('/api/backlog').query({ groupBy })).status).toBe(200);
        }
        for (const bucket of ['d8_30', 'week', 'late_referrals', 'no_contact_90']) {
          const res = await manager
            .get('/api/backlog/items')
            .query({ key: team.worker.id, bucket });
          expect(res.status).toBe(200);
        }
      },
    );

    // Four summaries (by team and by partner, their totals too), four pages with
    // their counts.
    expect(sent.length).toBe(4 + 2 + 4 * 2);
    for (const q of sent) {
      const nodes = planNodes(await explain(testKnex(), q));
      const seqScans = nodes
        .filter(
          (n) => n['Node Type'] === 'Seq Scan' && TABLES.includes(n['Relation Name'] as string),
        )
        .map((n) => n['Relation Name']);
      if (process.env.SHOW_PLANS) {
        const { rows: text } = await testKnex().raw(`EXPLAIN ${knexSql(q)}`, q.bindings);
        console.log(text.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
      }
      expect({ sql: q.sql.slice(0, 120), seqScans }).toEqual({
        sql: q.sql.slice(0, 120),
        seqScans: [],
      });
    }
    // By district, the follow-ups' counts read each one's district from the follow-up index: no
    // person is looked up for them (at 1 M persons, tens of thousands of random heap reads). Only
    // the late referrals' arm looks its persons up (its group key, twice in its plan).
    // (sent: by assignee, by team and its totals, by district, by partner and its totals)
    const byDistrict = sent[3];
    expect(byDistrict.bindings).toContain(team.structure.id);
    const nodes = planNodes(await explain(testKnex(), byDistrict));
    const lookups = nodes.filter((n) => n['Index Name'] === 'persons_pkey').length;
    expect(nodes.some((n) => n['Relation Name'] === 'follow_ups')).toBe(true);
    expect(lookups).toBeLessThanOrEqual(2);

    // By partner, no person is looked up: the no-contact counts read the referrals' copies of
    // their persons (migration 20261213100000).
    const byPartner = sent[4];
    expect(byPartner.sql).toContain('active_pairs');
    const partnerNodes = planNodes(await explain(testKnex(), byPartner));
    expect(partnerNodes.some((n) => n['Relation Name'] === 'referrals')).toBe(true);
    expect(partnerNodes.some((n) => n['Relation Name'] === 'persons')).toBe(false);
  });

  it('when the pairs of the partner grouping are read, then their index holds exactly the open statuses', async () => {
    // The index's statuses are written out in its migration; PostgreSQL uses a partial index only
    // when the query's condition implies its own, so both lists must stay the backlog's.
    const { rows } = await testKnex().raw(
      `SELECT pg_get_expr(i.indpred, i.indrelid) AS predicate
         FROM pg_index i WHERE i.indexrelid = 'referrals_open_by_person'::regclass`,
    );
    const listed = [...(rows[0].predicate as string).matchAll(/'(\w+)'::text/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...OPEN_STATUSES].sort());
  });
});
