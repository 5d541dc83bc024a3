import type { Knex } from 'knex';
import { hashPassword } from '../auth/passwords';
import type { Cipher } from '../lib/crypto';
import { seedCatalogue } from '../features/rights/right-catalogue';

export const BENCH_PASSWORD = 'bench-password-aller-vers';
export const BENCH_EMAIL = 'bench-worker@bench.aller-vers.test';
export const BENCH_PARTNER_EMAIL = 'bench-partner@bench.aller-vers.test';
/** One of the bench structure's managers (every tenth staff member is one). */
export const BENCH_MANAGER_EMAIL = 'bench-9@bench.aller-vers.test';
const BENCH_PARTNER_NAME = 'Banque alimentaire (bench)';

/** Every fifth person of the bench structure is referred; statuses cycle through these. */
const REFERRAL_STATUSES = ['requested', 'accepted', 'in_progress', 'completed'] as const;

interface BenchSeed {
  structureId: string;
  workerId: string;
  personId: string;
  /** A referral of the bench partner, for the referral scenarios. */
  referralId: string;
}

/**
 * A structure the size of a large CCAS: many persons with contacts and follow-ups, a second
 * structure so scoping is exercised, and referrals to a partner. Each part is idempotent.
 */
export async function benchSeed(
  knex: Knex,
  opts: { persons: number; cipher: Cipher; log?: (msg: string) => void },
): Promise<BenchSeed> {
  const log = opts.log ?? (() => undefined);
  const base = await personsSeed(knex, opts.persons, log);
  const referralId = await referralsSeed(knex, base, opts.cipher, log);
  return { ...base, referralId };
}

/**
 * The bench partner, one of its staff, and for every fifth person of the bench structure a
 * referral consent and a referral (with its creation event), reason and summary encrypted with
 * the app's key. Idempotent: does nothing when the bench partner exists.
 */
async function referralsSeed(
  knex: Knex,
  base: Omit<BenchSeed, 'referralId'>,
  cipher: Cipher,
  log: (msg: string) => void,
): Promise<string> {
  const existing = await knex('partners').where({ name: BENCH_PARTNER_NAME }).first('id');
  if (existing) {
    const r = await knex('referrals').where({ partner_id: existing.id }).orderBy('id').first('id');
    return r.id;
  }
  const hash = await hashPassword(BENCH_PASSWORD);
  return knex.transaction(async (trx) => {
    const [partner] = await trx('partners')
      .insert({
        name: BENCH_PARTNER_NAME,
        email: 'bench-partner@bench.aller-vers.test',
        // The bench structure owns its partner (only its admins may change it).
        structure_id: base.structureId,
      })
      .returning('id');
    const [service] = await trx('partner_services')
      .insert({
        partner_id: partner.id,
        name: 'Colis alimentaires',
        themes: ['equipement-et-alimentation--alimentation'],
      })
      .returning('id');
    await trx('users').insert({
      structure_id: base.structureId,
      partner_id: partner.id,
      email: BENCH_PARTNER_EMAIL,
      name: 'Accueil banque alimentaire',
      role: 'partner',
      password_hash: hash,
    });
    const persons: { id: string; referent_id: string }[] = await trx('persons')
      .where({ structure_id: base.structureId })
      .orderBy('id')
      .select('id', 'referent_id');
    const referred = persons.filter((_, i) => i % 5 === 0);
    let first = '';
    for (let done = 0; done < referred.length; done += 1000) {
      const chunk = referred.slice(done, done + 1000);
      const consents = await trx('consents')
        .insert(
          chunk.map((p) => ({
            structure_id: base.structureId,
            person_id: p.id,
            purpose: 'referral',
            partner_id: partner.id,
            method: 'oral',
            shared_fields: ['phone'],
            given_at: new Date(Date.UTC(2026, 9, 1)),
            recorded_by: p.referent_id,
          })),
        )
        .returning('id');
      const referrals = await trx('referrals')
        .insert(
          chunk.map((p, k) => ({
            structure_id: base.structureId,
            person_id: p.id,
            partner_id: partner.id,
            service_id: service.id,
            consent_id: consents[k].id,
            requester_id: p.referent_id,
            status: REFERRAL_STATUSES[(done + k) % REFERRAL_STATUSES.length],
            reason_enc: cipher.encrypt('Besoin alimentaire'),
            shared_summary_enc: cipher.encrypt('Famille de trois personnes'),
            created_at: new Date(Date.UTC(2026, 9, 1) + (done + k) * 60_000),
          })),
        )
        .returning(['id', 'requester_id', 'created_at']);
      await trx('referral_events').insert(
        referrals.map((r: { id: string; requester_id: string; created_at: Date }) => ({
          referral_id: r.id,
          structure_id: base.structureId,
          from_status: null,
          to_status: 'requested',
          actor_kind: 'user',
          actor_id: r.requester_id,
          at: r.created_at,
        })),
      );
      if (!first) first = referrals[0].id;
      log(
        `bench:seed ${Math.min(done + chunk.length, referred.length)}/${referred.length} referrals`,
      );
    }
    await trx.raw('ANALYZE consents, referrals, referral_events');
    return first;
  });
}

async function personsSeed(
  knex: Knex,
  persons: number,
  log: (msg: string) => void,
): Promise<Omit<BenchSeed, 'referralId'>> {
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
    // Structures come with their catalogue of rights, as the CLI creates them.
    for (const id of [s.id, other.id]) await seedCatalogue(trx, id);
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
    for (let done = 0; done < persons; done += batch) {
      const n = Math.min(batch, persons - done);
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
      log(`bench:seed ${Math.min(done + n, persons)}/${persons} persons`);
    }
    await trx.raw('ANALYZE persons, contacts, follow_ups');
    return { structureId: s.id, workerId: workers[0].id, personId: firstPersonId };
  });
}
