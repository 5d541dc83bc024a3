import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { capture, explain, planNodes, type PlanNode, type Sent } from '../../setup/plans';
import { createStructure, createTeam } from '../../setup/factories';
import {
  createPersonRepository,
  DOMINANT_STRUCTURE_SHARE,
  SEARCH_COUNT_CAP,
  structureShare,
} from '../../../server/features/persons/person-repository';

/**
 * The person search must be answered from the (structure_id, search_text) trigram index, not by
 * computing word similarity on every row of the table: this reads the plan PostgreSQL makes for
 * the very queries the endpoint sends (no timing).
 */

/** The trigram queries: those with the word-similarity operator. */
const TRIGRAM = /<%/;

/** The plan's nodes for a captured query, after `setup` in the same transaction. */
async function planOf(q: Sent, setup?: string): Promise<PlanNode[]> {
  const plan = await testKnex().transaction(async (trx) => {
    if (setup) await trx.raw(setup);
    return explain(trx, q);
  });
  return planNodes(plan);
}

const planTree = (q: Sent) => explain(testKnex(), q);

/** How many sub-plans of the tree run below a Limit node. */
function subPlansUnderLimit(n: PlanNode, belowLimit = false): number {
  const here = belowLimit && n['Parent Relationship'] === 'SubPlan' ? 1 : 0;
  const below = belowLimit || n['Node Type'] === 'Limit';
  return here + (n.Plans ?? []).reduce((sum, c) => sum + subPlansUnderLimit(c, below), 0);
}

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

  it('when a worker searches a large structure by name or place, or checks duplicates, then the trigram (and phone) indexes answer, never a scan', async () => {
    const [team, other] = await Promise.all([createTeam(), createTeam()]);
    const surnames = ['Dupont', 'Martin', 'Bernard', 'Lefèvre', 'Moreau', 'Girard', 'Durand'];
    const places = [
      'parvis de la médiathèque',
      'quai Ligny',
      'gare Saint-Laud',
      'square Jeanne-d’Arc',
    ];
    const rows = Array.from({ length: 12000 }, (_, i) => ({
      structure_id: i % 10 === 0 ? other.structure.id : team.structure.id,
      first_name: `Prénom${i}`,
      last_name: `${surnames[i % surnames.length]}-${i}`,
      place: i % 40 === 1 ? `${places[Math.floor(i / 40) % places.length]} ${i}` : null,
      birth_year: 1930 + (i % 70),
      phone: i % 5 === 0 ? `06 ${String(10000000 + i).replace(/(\d{2})(?=\d)/g, '$1 ')}` : null,
      source: 'outreach',
    }));
    for (let i = 0; i < rows.length; i += 2000)
      await testKnex()('persons').insert(rows.slice(i, i + 2000));
    await testKnex().raw('ANALYZE persons');

    const mine = rows.filter((r) => r.structure_id === team.structure.id);
    const worker = await loginAs(ctx.app, team.worker.email);
    for (const [q, expected] of [
      ['lefevre', mine.filter((r) => r.last_name.startsWith('Lefèvre')).length],
      // The place is searched like the alias, accents aside, through the same index.
      ['quai ligny', mine.filter((r) => r.place?.startsWith('quai Ligny')).length],
    ] as const) {
      expect(expected).toBeGreaterThan(0);
      const sent = await capture(
        ctx.deps.knex,
        TRIGRAM,
        () => worker.get('/api/persons').query({ q }),
        (res) => {
          expect(res.status).toBe(200);
          // Counted up to the cap: "lefevre" matches about 1 500 files here, more than it.
          expect(res.body.total).toBe(Math.min(expected, SEARCH_COUNT_CAP));
          expect(res.body.totalCapped).toBe(expected > SEARCH_COUNT_CAP);
        },
      );
      expect(sent).toHaveLength(1); // the candidates with their similarity, counted and ranked
      // The derived status is computed for the page's rows only, never for every match below
      // the LIMIT that stops reading them.
      expect(subPlansUnderLimit(await planTree(sent[0]))).toBe(0);
      for (const s of sent) {
        const nodes = await planOf(s);
        const onPersons = nodes.filter((n) => n['Relation Name'] === 'persons');
        expect(onPersons.map((n) => n['Node Type'])).not.toContain('Seq Scan');
        expect(nodes.map((n) => n['Index Name'])).toContain('persons_structure_search_trgm');
      }
    }

    // The duplicates check: names, alias and place through the trigram index, the phone and the
    // birth year through theirs, never a scan of the structure's files.
    const sent = await capture(
      ctx.deps.knex,
      TRIGRAM,
      () =>
        worker.get('/api/persons/duplicates').query({
          firstName: 'Prenom42',
          lastName: 'Lefevre-42',
          place: 'quai Ligny',
          phone: '06 10 00 00 45',
          birthYear: 1972,
        }),
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body.total).toBeGreaterThan(0);
      },
    );
    expect(sent).toHaveLength(1);
    const nodes = await planOf(sent[0], 'SET LOCAL pg_trgm.word_similarity_threshold = 0.45');
    const onPersons = nodes.filter((n) => n['Relation Name'] === 'persons');
    expect(onPersons.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    const indexes = nodes.map((n) => n['Index Name']);
    expect(indexes).toContain('persons_structure_search_trgm');
    expect(indexes).toContain('persons_structure_phone_key');
  });
  it('when one structure holds most files, then its search checks the structure on the rows the trigram index gives rather than as a key of it, and still answers its files only, ranked the same; a small structure keeps the key', async () => {
    // In one transaction, rolled back: the statistics ANALYZE writes are rolled back with it.
    const trx = await testKnex().transaction();
    try {
      const [big, small] = [await createStructure(trx), await createStructure(trx)];
      const {
        rows: [{ n }],
      } = await trx.raw('SELECT count(*)::int AS n FROM persons');
      const added = 2 * n + 20000;
      await trx.raw(
        `INSERT INTO persons (structure_id, first_name, last_name, source)
         SELECT ?, 'Anne', CASE WHEN g % 500 = 0 THEN 'Lefèvre' ELSE 'Nom' || g END, 'outreach'
           FROM generate_series(1, ?) g`,
        [big.id, added],
      );
      await trx('persons').insert(
        ['Lefèvre', 'Lefevres', 'Martin'].map((lastName) => ({
          structure_id: small.id,
          first_name: 'Anne',
          last_name: lastName,
          source: 'outreach',
        })),
      );
      await trx.raw('ANALYZE persons');
      expect(await structureShare(trx, big.id)).toBeGreaterThanOrEqual(DOMINANT_STRUCTURE_SHARE);
      expect(await structureShare(trx, small.id)).toBeLessThan(DOMINANT_STRUCTURE_SHARE);

      // A repository of its own: what it knows of each structure's share starts empty.
      const persons = createPersonRepository(ctx.deps.cipher);
      for (const [structure, expected, keyed] of [
        [big, Math.floor(added / 500), false],
        [small, 2, true],
      ] as const) {
        const sent = await capture(
          testKnex(),
          TRIGRAM,
          () => persons.search(trx, structure.id, { q: 'lefevre', page: 1, pageSize: 20 }),
          (page) => {
            expect(page.total).toBe(expected);
            expect(page.items.length).toBe(Math.min(expected, 20));
            expect(page.items.every((p) => p.structureId === structure.id)).toBe(true);
            if (structure === small)
              expect(page.items.map((p) => p.lastName)).toEqual(['Lefèvre', 'Lefevres']);
          },
        );
        expect(sent).toHaveLength(1);
        const nodes = planNodes(await explain(trx, sent[0]));
        const keys = nodes.filter((node) => String(node['Index Cond']).includes('structure_id'));
        if (keyed) {
          // Its few files straight from the structure's key.
          expect(keys.length).toBeGreaterThan(0);
        } else {
          // The trigram index alone, the structure checked on the rows it gives.
          expect(keys).toEqual([]);
          expect(nodes.map((node) => node['Index Name'])).toContain(
            'persons_structure_search_trgm',
          );
          expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
        }
      }
    } finally {
      await trx.rollback();
    }
  });
});
