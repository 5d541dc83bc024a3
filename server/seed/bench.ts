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
  await observationSeed(knex, base.structureId, log);
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

/**
 * What the observation counts, at scale: six districts (three QPV) and a seventh of the people
 * without one, two teams sharing the staff (one member in both), a right with its history for
 * every other person (every status and reason, monthly amounts once obtained), and the
 * partner's answer time on the referrals it took. Idempotent: does nothing once the bench
 * structure has districts.
 */
async function observationSeed(knex: Knex, structureId: string, log: (msg: string) => void) {
  if (await knex('districts').where({ structure_id: structureId }).first('id')) return;
  await knex.transaction(async (trx) => {
    await trx('districts').insert(
      ['Belle-Beille', 'Monplaisir', 'Roseraie', 'Centre-ville', 'Doutre', 'Lac de Maine'].map(
        (name, i) => ({ structure_id: structureId, name, qpv: i < 3 }),
      ),
    );
    const b = { s: structureId };
    // People in the row order of their id: districts by rank, a seventh without one.
    await trx.raw(
      `UPDATE persons p SET district_id = d.id
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM persons WHERE structure_id = :s) x
       JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM districts WHERE structure_id = :s) d
         ON d.k = x.rn % 7
       WHERE p.id = x.id`,
      b,
    );
    const teams = await trx('teams')
      .insert([
        { structure_id: structureId, name: 'Équipe mobile' },
        { structure_id: structureId, name: 'Accueil' },
      ])
      .returning('id');
    const staff: { id: string }[] = await trx('users')
      .where({ structure_id: structureId })
      .whereIn('role', ['worker', 'manager'])
      .orderBy('email')
      .select('id');
    await trx('team_members').insert([
      ...staff.map((u, i) => ({ team_id: teams[i % 2].id, user_id: u.id })),
      { team_id: teams[1].id, user_id: staff[0].id },
    ]);
    // Every other person has one right of the catalogue; its status and reason cycle, and it
    // was set in 2026 (an earlier status first for a fifth of them).
    const STATUSES = `(ARRAY['not_claimed','claim_in_progress','obtained','refused','abandoned','not_claimed','obtained'])`;
    const REASONS = `(ARRAY['non_knowledge','non_request','non_receipt','non_proposal'])`;
    await trx.raw(
      `WITH ranked AS (
         SELECT p.id, row_number() OVER (ORDER BY p.id) AS rn FROM persons p WHERE p.structure_id = :s
       ), rights AS (
         SELECT id, row_number() OVER (ORDER BY code) - 1 AS k, count(*) OVER () AS n
         FROM rights WHERE structure_id = :s
       ), chosen AS (
         SELECT x.id AS person_id, r.id AS right_id, x.rn,
           ${STATUSES}[1 + x.rn % 7] AS status
         FROM ranked x JOIN rights r ON r.k = (x.rn / 2) % r.n
         WHERE x.rn % 2 = 0
       ), rows AS (
         SELECT c.*, CASE WHEN c.status = 'not_claimed' THEN ${REASONS}[1 + (c.rn / 7) % 4] END AS reason,
           CASE WHEN c.status = 'obtained' THEN (20000 + (c.rn % 50) * 1000)::int END AS cents,
           timestamptz '2026-01-05 10:00+01' + (c.rn % 300) * interval '1 day' AS at
         FROM chosen c
       ), inserted AS (
         -- A data-modifying CTE runs whether or not it is read.
         INSERT INTO person_rights (structure_id, person_id, right_id, status, reason, monthly_amount_cents, created_at, updated_at)
         SELECT CAST(:s AS uuid), person_id, right_id, status, reason, cents, at, at FROM rows RETURNING id
       )
       INSERT INTO person_right_events (structure_id, person_id, right_id, from_status, status, reason, monthly_amount_cents, at)
       SELECT CAST(:s AS uuid), person_id, right_id, NULL, 'not_claimed', 'non_knowledge', NULL, at - interval '30 days'
       FROM rows WHERE rn % 5 = 0
       UNION ALL
       SELECT CAST(:s AS uuid), person_id, right_id, CASE WHEN rn % 5 = 0 THEN 'not_claimed' END, status, reason, cents, at FROM rows`,
      b,
    );
    // The partner answered the referrals it took after 0 to 5 days.
    await trx.raw(
      `UPDATE referrals SET responded_at = created_at + ((extract(epoch FROM created_at)::bigint / 60) % 6) * interval '1 day'
       WHERE structure_id = :s AND status <> 'requested'`,
      b,
    );
    await trx.raw(
      'ANALYZE districts, persons, teams, team_members, person_rights, person_right_events, referrals',
    );
  });
  log('bench:seed districts, teams and rights for the observation');
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
