import { LIST_READ_ACTIONS } from '../../../server/features/audit/audit-repository';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { capture, explain, knexSql, planNodes } from '../../setup/plans';

/**
 * A person's audit events (`GET /api/audit?personId`, the journal page, the right-of-access
 * export) are found through indexes, whatever the size of the structure's trail: this reads the
 * plans PostgreSQL makes for the very queries the endpoint sends, over a trail of 56 000 events
 * (no timing). The list reads, which name the persons they showed in their details and have no
 * subject, come from the partial GIN index `audit_events_list_ids`.
 */
describe('audit query plans', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('when a manager reads a person’s events, then every kind of event comes from an index, the list reads from theirs, never from a scan of the structure’s trail', async () => {
    const teams = await Promise.all(Array.from({ length: 3 }, () => createTeam()));
    const k = testKnex();
    for (const t of teams) {
      await k.raw(
        `INSERT INTO persons (structure_id, alias, source, referent_id)
         SELECT ?, 'P' || g, 'outreach', ? FROM generate_series(1, 300) g`,
        [t.structure.id, t.worker.id],
      );
      // Each person read 60 times, and searched twice with the next one, over the year.
      await k.raw(
        `WITH p AS (SELECT id, row_number() OVER (ORDER BY id) n FROM persons WHERE structure_id = ?)
         INSERT INTO audit_events
           (structure_id, actor_id, actor_role, action, subject_type, subject_id, details, created_at)
         SELECT ?::uuid, ?::uuid, 'worker', 'person.read', 'person', p.id, NULL,
                timestamptz '2026-01-01' + (g * 300 + p.n) * interval '20 minutes'
           FROM p, generate_series(1, 60) g
         UNION ALL
         SELECT ?::uuid, ?::uuid, 'worker', 'person.search', 'person', NULL,
                jsonb_build_object('results', 2, 'ids',
                  jsonb_build_array(p.id, (SELECT q.id FROM p q WHERE q.n = p.n % 300 + 1))),
                timestamptz '2026-01-01' + (g * 9000 + p.n) * interval '20 minutes'
           FROM p, generate_series(1, 2) g`,
        [t.structure.id, t.structure.id, t.worker.id, t.structure.id, t.worker.id],
      );
    }
    await k.raw('ANALYZE audit_events');
    await k.raw('ANALYZE persons');

    const team = teams[0];
    const person = await k('persons').where({ structure_id: team.structure.id }).first('id');
    const manager = await loginAs(ctx.app, team.manager.email);
    const sent = await capture(
      ctx.deps.knex,
      /from "audit_events" as "a"/,
      // A full page of the journal's size: the page, then its count.
      () => manager.get('/api/audit').query({ personId: person.id, pageSize: 50 }),
      (res) => {
        expect(res.status).toBe(200);
        // 60 reads, two searches of their own and two of the previous person.
        expect(res.body.total).toBe(64);
      },
    );
    expect(sent).toHaveLength(2);
    for (const q of sent) {
      if (process.env.SHOW_PLANS) {
        const { rows: text } = await k.raw(`EXPLAIN ${knexSql(q)}`, q.bindings);
        console.log(text.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
      }
      const nodes = planNodes(await explain(k, q)).filter(
        (n) =>
          n['Relation Name'] === 'audit_events' || /^audit_events/.test(String(n['Index Name'])),
      );
      expect(nodes.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      const indexes = nodes.map((n) => n['Index Name']);
      expect(indexes).toContain('audit_events_list_ids');
      expect(indexes).not.toContain('audit_events_structure_id_created_at_index');
    }
  });

  it('when the list reads are looked up, then their index holds exactly the list read actions', async () => {
    // The index's actions are written out in its migration; PostgreSQL uses a partial index only
    // when the query's condition implies its own, so both lists must stay the same.
    const { rows } = await testKnex().raw(
      `SELECT pg_get_expr(i.indpred, i.indrelid) AS predicate
         FROM pg_index i WHERE i.indexrelid = 'audit_events_list_ids'::regclass`,
    );
    const listed = [...(rows[0].predicate as string).matchAll(/'([\w.]+)'::text/g)].map(
      (m) => m[1],
    );
    expect(listed.sort()).toEqual(Object.values(LIST_READ_ACTIONS).flat().sort());
  });
});
