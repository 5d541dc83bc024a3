import type { Knex } from 'knex';
import { hashPassword } from '../auth/passwords';

export const BENCH_PASSWORD = 'bench-password-aller-vers';
export const BENCH_EMAIL = 'bench-worker@bench.aller-vers.test';

/**
 * A structure the size of a large CCAS: many persons with contacts and follow-ups, plus a second
 * structure so scoping is exercised. Idempotent: does nothing when the bench structure exists.
 */
export async function benchSeed(
  knex: Knex,
  opts: { persons: number; log?: (msg: string) => void } = { persons: 20000 },
): Promise<{ structureId: string; workerId: string; personId: string }> {
  const log = opts.log ?? (() => undefined);
  const existing = await knex('structures').where({ slug: 'bench' }).first();
  if (existing) {
    const worker = await knex('users').where({ email: BENCH_EMAIL }).first();
    const person = await knex('persons')
      .where({ structure_id: existing.id })
      .orderBy('id')
      .first('id');
    return { structureId: existing.id, workerId: worker.id, personId: person.id };
  }
  const hash = await hashPassword(BENCH_PASSWORD);
  return knex.transaction(async (trx) => {
    const [s] = await trx('structures')
      .insert({ slug: 'bench', name: 'CCAS Bench', city: 'Angers' })
      .returning('id');
    const [other] = await trx('structures')
      .insert({ slug: 'bench-other', name: 'CCAS Autre', city: 'Tours' })
      .returning('id');
    const workers = await trx('users')
      .insert(
        Array.from({ length: 20 }, (_, i) => ({
          structure_id: s.id,
          email: i === 0 ? BENCH_EMAIL : `bench-${i}@bench.aller-vers.test`,
          name: `Travailleur ${i}`,
          role: i % 10 === 9 ? 'manager' : 'worker',
          password_hash: hash,
        })),
      )
      .returning('id');
    const [otherWorker] = await trx('users')
      .insert({
        structure_id: other.id,
        email: 'bench-other@bench.aller-vers.test',
        name: 'Autre',
        role: 'worker',
        password_hash: hash,
      })
      .returning('id');
    const firstNames = [
      'Hélène',
      'José',
      'Aïcha',
      'Noël',
      'François',
      'Zoé',
      'Jérôme',
      'Inès',
      'Loïc',
      'Maëlle',
    ];
    const lastNames = [
      'Dupont',
      'Martin',
      'Bernard',
      'Lefèvre',
      'Moreau',
      'Girard',
      'Durand',
      'Lambert',
      'Roux',
      'Faure',
    ];
    const batch = 2000;
    let firstPersonId = '';
    for (let done = 0; done < opts.persons; done += batch) {
      const n = Math.min(batch, opts.persons - done);
      const rows = Array.from({ length: n }, (_, k) => {
        const i = done + k;
        const structure = i % 10 === 0 ? other.id : s.id;
        return {
          structure_id: structure,
          alias: i % 3 === 0 ? `Personne ${i} près du marché` : null,
          first_name: i % 3 === 0 ? null : firstNames[i % firstNames.length],
          last_name: i % 3 === 0 ? null : `${lastNames[(i * 7) % lastNames.length]}-${i}`,
          birth_year: 1940 + (i % 60),
          source: 'outreach',
          referent_id: structure === s.id ? workers[i % workers.length].id : otherWorker.id,
        };
      });
      const ids = await trx('persons')
        .insert(rows)
        .returning(['id', 'structure_id', 'referent_id']);
      if (!firstPersonId)
        firstPersonId = ids.find((r: { structure_id: string }) => r.structure_id === s.id).id;
      await trx('contacts').insert(
        ids.flatMap((p: { id: string; structure_id: string; referent_id: string }, k: number) =>
          [0, 1].map((j) => ({
            structure_id: p.structure_id,
            person_id: p.id,
            author_id: p.referent_id,
            occurred_at: new Date(Date.UTC(2026, 0, 1) + (k + j) * 3600_000),
            channel: 'street',
            outcome: j === 1 && k % 2 === 0 ? 'reached' : 'not_reached',
          })),
        ),
      );
      await trx('follow_ups').insert(
        ids.map((p: { id: string; structure_id: string; referent_id: string }, k: number) => ({
          structure_id: p.structure_id,
          person_id: p.id,
          assignee_id: p.referent_id,
          created_by: p.referent_id,
          title: 'Relancer',
          due_at: new Date(Date.UTC(2026, 10, 1) + (k % 60) * 86400_000),
          status: k % 4 === 0 ? 'done' : 'open',
        })),
      );
      log(`bench:seed ${Math.min(done + n, opts.persons)}/${opts.persons} persons`);
    }
    await trx.raw('ANALYZE persons, contacts, follow_ups');
    return { structureId: s.id, workerId: workers[0].id, personId: firstPersonId };
  });
}
