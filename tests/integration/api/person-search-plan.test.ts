import type { Knex } from 'knex';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';

/**
 * The person search must be answered from the (structure_id, search_text) trigram index, not by
 * computing word similarity on every row of the table: this reads the plan PostgreSQL makes for
 * the very queries the endpoint sends (no timing).
 */
type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };
const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

describe('person search query plan', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('when the word-similarity operators are costed, then PostgreSQL knows they are not free', async () => {
    const { rows } = await testKnex().raw(
      "SELECT proname, procost FROM pg_proc WHERE proname IN ('word_similarity_op', 'word_similarity_commutator_op')",
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(Number(r.procost)).toBeGreaterThanOrEqual(100);
  });

  it('when a worker searches a large structure, then the list and its count use the trigram index', async () => {
    const [team, other] = await Promise.all([createTeam(), createTeam()]);
    const surnames = ['Dupont', 'Martin', 'Bernard', 'Lefèvre', 'Moreau', 'Girard', 'Durand'];
    const rows = Array.from({ length: 12000 }, (_, i) => ({
      structure_id: i % 10 === 0 ? other.structure.id : team.structure.id,
      first_name: `Prénom${i}`,
      last_name: `${surnames[i % surnames.length]}-${i}`,
      source: 'outreach',
    }));
    for (let i = 0; i < rows.length; i += 2000)
      await testKnex()('persons').insert(rows.slice(i, i + 2000));
    await testKnex().raw('ANALYZE persons');

    const sent: { sql: string; bindings: readonly Knex.RawBinding[] }[] = [];
    const capture = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
      if (q.sql.includes('<%')) sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
    };
    ctx.deps.knex.on('query', capture);
    try {
      const worker = await loginAs(ctx.app, team.worker.email);
      const res = await worker.get('/api/persons').query({ q: 'lefevre' });
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(
        rows.filter(
          (r) => r.structure_id === team.structure.id && r.last_name.startsWith('Lefèvre'),
        ).length,
      );
    } finally {
      ctx.deps.knex.removeListener('query', capture);
    }

    expect(sent).toHaveLength(2); // the page and its count
    for (const q of sent) {
      // pg's numbered placeholders, in order, back to knex's.
      const sql = q.sql.replace(/\$\d+/g, '?');
      const { rows: plan } = await testKnex().raw(`EXPLAIN (FORMAT JSON) ${sql}`, q.bindings);
      const nodes = planNodes(plan[0]['QUERY PLAN'][0].Plan);
      const onPersons = nodes.filter((n) => n['Relation Name'] === 'persons');
      expect(onPersons.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      expect(nodes.map((n) => n['Index Name'])).toContain('persons_structure_search_trgm');
    }
  });
});
