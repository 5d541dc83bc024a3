import type { Knex } from 'knex';
import { hashPassword } from '../auth/passwords';
import type { Cipher } from '../lib/crypto';
import { seedCatalogue } from '../features/rights/right-catalogue';
import {
  ALIASES,
  DISTRICTS,
  FIRST_NAMES,
  PLACES,
  SURNAMES,
  SURNAME_HEADS,
  SURNAME_MIDDLES,
  SURNAME_TAILS,
} from './bench-names';
import { BENCH_EMAIL_DOMAIN } from './seed-accounts';

export const BENCH_PASSWORD = 'bench-password-aller-vers';
export const BENCH_EMAIL = `bench-worker@${BENCH_EMAIL_DOMAIN}`;
export const BENCH_PARTNER_EMAIL = `bench-partner@${BENCH_EMAIL_DOMAIN}`;
/** One of the bench structure's managers (every tenth staff member is one). */
export const BENCH_MANAGER_EMAIL = `bench-9@${BENCH_EMAIL_DOMAIN}`;
/** The worker of the second structure. */
const BENCH_OTHER_EMAIL = `bench-other@${BENCH_EMAIL_DOMAIN}`;
const BENCH_PARTNER_NAME = 'Banque alimentaire (bench)';
/** Persons written per transaction, with all their rows: a crash loses one chunk at most. */
const CHUNK = 10_000;

interface BenchSeed {
  structureId: string;
  workerId: string;
  personId: string;
  /** A referral of the bench partner, for the referral scenarios. */
  referralId: string;
}

interface BenchSeedOptions {
  persons: number;
  cipher: Cipher;
  /** A line per step (the bench harness prints them). */
  log?: (msg: string) => void;
  /** Persons written so far, after each chunk (the CLI draws a progress bar with it). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A structure the size of a large CCAS or a département, in the proportions of a real one
 * (figures per person on average): about 10 contacts spread over the years the file was active
 * (most not reached), 1.5 follow-ups (most done), 1.1 rights with their history for half of the
 * people, a referral for one in ten (consent, events) among several partners, a report for one
 * in fifty, surnames from a few hundred common ones and a long tail of rarer ones, districts and
 * teams. A tenth of the persons belong to a second structure, so scoping is exercised.
 *
 * Written with set-based SQL (INSERT … SELECT over generate_series), CHUNK persons and all
 * their rows per transaction; run again, it resumes after the last chunk written. A few texts
 * are encrypted once with the app's key and shared by many rows (encrypting ten million notes
 * one by one would take longer than the rest): about one contact in twenty has a summary.
 * Its accounts share a published password: production refuses to start while one of them is
 * enabled (seed-accounts.ts).
 */
export async function benchSeed(knex: Knex, opts: BenchSeedOptions): Promise<BenchSeed> {
  const log = opts.log ?? (() => undefined);
  const setup = await setupSeed(knex, opts.persons);
  const pools = cipherPools(opts.cipher);
  let done = Number(
    (
      await knex('persons')
        .whereIn('structure_id', [setup.structureId, setup.otherId])
        .count<{ count: string }[]>('* as count')
    )[0].count,
  );
  const todo = done < opts.persons;
  if (todo) log(`bench:seed ${done}/${opts.persons} persons already written`);
  opts.onProgress?.(Math.min(done, opts.persons), opts.persons);
  while (done < opts.persons) {
    const to = Math.min(done + CHUNK, opts.persons);
    await knex.transaction((trx) => writeChunk(trx, setup, pools, done, to - 1));
    done = to;
    opts.onProgress?.(done, opts.persons);
    if (!opts.onProgress) log(`bench:seed ${done}/${opts.persons} persons`);
  }
  // A seed stopped after its last chunk but before its counters (they follow the chunks with
  // triggers off) is finished here: the counters are rebuilt whenever they disagree.
  if (todo || !(await countersAgree(knex, [setup.structureId, setup.otherId])))
    await countAndVacuum(knex, SEEDED_TABLES, log);
  const person = await knex('persons')
    .where({ structure_id: setup.structureId })
    .orderBy('id')
    .first('id');
  const referral = await knex('referrals')
    .where({ partner_id: setup.partnerIds[0] })
    .orderBy('id')
    .first('id');
  return {
    structureId: setup.structureId,
    workerId: setup.staff[0],
    personId: person.id,
    referralId: referral.id,
  };
}

/** Whether the backlog's counter totals match the active files and open follow-ups. */
async function countersAgree(knex: Knex, structureIds: string[]): Promise<boolean> {
  const { rows } = await knex.raw(
    `SELECT
       (SELECT coalesce(sum(persons), 0) FROM backlog_contact_counts
         WHERE structure_id = ANY(:ids) AND dimension = 'referent' AND last_day IS NULL)
     = (SELECT count(*) FROM persons
         WHERE structure_id = ANY(:ids) AND closed_at IS NULL AND anonymised_at IS NULL)
     AND
       (SELECT coalesce(sum(follow_ups), 0) FROM backlog_follow_up_counts
         WHERE structure_id = ANY(:ids) AND due_day IS NULL)
     = (SELECT count(*) FROM follow_ups WHERE structure_id = ANY(:ids) AND status = 'open')
       AS agree`,
    { ids: structureIds },
  );
  return rows[0].agree === true;
}

const SEEDED_TABLES =
  'persons, contacts, follow_ups, person_rights, person_right_events, consents, referrals, referral_events, reports, backlog_contact_counts, backlog_follow_up_counts';

/**
 * The backlog's counters, counted once from persons and follow-ups (the chunks skip triggers as a superuser),
 * then planner statistics and the visibility map that index-only counts need (autovacuum may be
 * off, and would come late). VACUUM cannot run in a transaction, and both take longer than the
 * app's statement timeout at a million persons: one connection of the pool, its timeout lifted.
 */
async function countAndVacuum(knex: Knex, tables: string, log: (msg: string) => void) {
  const conn = await knex.client.acquireConnection();
  try {
    await conn.query('SET statement_timeout = 0');
    log('bench:seed backlog counters');
    await conn.query('SELECT backlog_contact_counts_rebuild()');
    await conn.query('SELECT backlog_follow_up_counts_rebuild()');
    log('bench:seed VACUUM ANALYZE');
    await conn.query(`VACUUM (ANALYZE) ${tables}`);
  } finally {
    await conn.query('RESET statement_timeout').catch(() => undefined);
    await knex.client.releaseConnection(conn);
  }
}

interface Setup {
  structureId: string;
  otherId: string;
  otherWorkerId: string;
  staff: string[];
  districts: string[];
  rights: string[];
  partnerIds: string[];
  serviceIds: string[];
  partnerUserId: string;
  /** Whether the seed may skip foreign-key checks and triggers (session_replication_role). */
  superuser: boolean;
  /** The seed's "now": every date is placed before it, so a resumed seed stays coherent. */
  anchor: Date;
}

const STAFF_PER_PERSONS = 2_500;
const PARTNER_PER_PERSONS = 50_000;

/**
 * The structures with their catalogues, staff (one per 2 500 persons, at least 20; every tenth
 * a manager), districts, teams, partners (one per 50 000 persons, at least one; the first is the
 * bench partner with its user). One transaction; read back when it exists.
 */
async function setupSeed(knex: Knex, persons: number): Promise<Setup> {
  const existing = await knex('structures').where({ slug: 'bench' }).first('id', 'created_at');
  if (!existing) {
    const hash = await hashPassword(BENCH_PASSWORD);
    await knex.transaction(async (trx) => {
      const [s] = await trx('structures')
        .insert({ slug: 'bench', name: 'CCAS Bench', city: 'Angers' })
        .returning('id');
      const [other] = await trx('structures')
        .insert({ slug: 'bench-other', name: 'CCAS Autre', city: 'Tours' })
        .returning('id');
      // Structures come with their catalogue of rights, as the CLI creates them.
      for (const id of [s.id, other.id]) await seedCatalogue(trx, id);
      const nStaff = Math.max(20, Math.ceil(persons / STAFF_PER_PERSONS));
      const staff: { id: string }[] = await trx('users')
        .insert(
          Array.from({ length: nStaff }, (_, i) => ({
            structure_id: s.id,
            email: i === 0 ? BENCH_EMAIL : `bench-${i}@${BENCH_EMAIL_DOMAIN}`,
            name: `Travailleur ${i}`,
            role: i % 10 === 9 ? 'manager' : 'worker',
            password_hash: hash,
          })),
        )
        .returning('id');
      await trx('users').insert({
        structure_id: other.id,
        email: BENCH_OTHER_EMAIL,
        name: 'Autre',
        role: 'worker',
        password_hash: hash,
      });
      const nDistricts = Math.min(DISTRICTS.length, Math.max(6, Math.round(persons / 40_000)));
      const qpv = new Set(['Belle-Beille', 'Monplaisir', 'Roseraie', 'Verneau', 'Justices']);
      await trx('districts').insert(
        DISTRICTS.slice(0, nDistricts).map((name) => ({
          structure_id: s.id,
          name,
          qpv: qpv.has(name),
        })),
      );
      // Teams of about twenty staff; the first member of the bench is in two teams.
      const nTeams = Math.max(2, Math.round(nStaff / 20));
      const teams: { id: string }[] = await trx('teams')
        .insert(
          Array.from({ length: nTeams }, (_, i) => ({
            structure_id: s.id,
            name: i === 0 ? 'Équipe mobile' : i === 1 ? 'Accueil' : `Équipe ${i + 1}`,
          })),
        )
        .returning('id');
      await trx('team_members').insert([
        ...staff.map((u, i) => ({ team_id: teams[i % nTeams].id, user_id: u.id })),
        { team_id: teams[1].id, user_id: staff[0].id },
      ]);
      const nPartners = Math.max(1, Math.round(persons / PARTNER_PER_PERSONS));
      for (let k = 0; k < nPartners; k++) {
        const [partner] = await trx('partners')
          .insert({
            name: k === 0 ? BENCH_PARTNER_NAME : `Partenaire ${k + 1} (bench)`,
            email: k === 0 ? BENCH_PARTNER_EMAIL : `bench-partner-${k}@${BENCH_EMAIL_DOMAIN}`,
            // The bench structure owns its partners (only its admins may change them).
            structure_id: s.id,
          })
          .returning('id');
        await trx('partner_services').insert({
          partner_id: partner.id,
          name: k === 0 ? 'Colis alimentaires' : 'Accompagnement',
          themes: ['equipement-et-alimentation--alimentation'],
        });
        if (k === 0)
          await trx('users').insert({
            structure_id: s.id,
            partner_id: partner.id,
            email: BENCH_PARTNER_EMAIL,
            name: 'Accueil banque alimentaire',
            role: 'partner',
            password_hash: hash,
          });
      }
    });
  }
  const s = await knex('structures').where({ slug: 'bench' }).first('id', 'created_at');
  const other = await knex('structures').where({ slug: 'bench-other' }).first('id');
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  const partners = await knex('partners')
    .where({ structure_id: s.id })
    .orderBy('created_at')
    .orderBy('email')
    .select('id', 'email');
  // The bench partner first (its email sorts before the others').
  partners.sort(
    (a, b) => Number(b.email === BENCH_PARTNER_EMAIL) - Number(a.email === BENCH_PARTNER_EMAIL),
  );
  const services = await Promise.all(
    partners.map((p) => knex('partner_services').where({ partner_id: p.id }).first('id')),
  );
  return {
    structureId: s.id,
    otherId: other.id,
    otherWorkerId: (await knex('users').where({ email: BENCH_OTHER_EMAIL }).first('id')).id,
    staff: ids(
      await knex('users')
        .where({ structure_id: s.id })
        .whereIn('role', ['worker', 'manager'])
        .orderByRaw('email = ? DESC, length(email), email', [BENCH_EMAIL])
        .select('id'),
    ),
    districts: ids(
      await knex('districts').where({ structure_id: s.id }).orderBy('name').select('id'),
    ),
    rights: ids(await knex('rights').where({ structure_id: s.id }).orderBy('code').select('id')),
    partnerIds: partners.map((p) => p.id),
    serviceIds: services.map((x) => x?.id ?? null),
    partnerUserId: (await knex('users').where({ email: BENCH_PARTNER_EMAIL }).first('id')).id,
    anchor: new Date(s.created_at),
    superuser: (await knex.raw('SELECT rolsuper FROM pg_roles WHERE rolname = current_user'))
      .rows[0].rolsuper,
  };
}

/** Encrypted texts shared by many rows, encrypted once per run. */
function cipherPools(cipher: Cipher) {
  const enc = (texts: string[]) => texts.map((t) => cipher.encrypt(t));
  return {
    summaries: enc([
      'Rencontré devant la gare, orienté vers l’accueil de jour',
      'Pas de réponse au téléphone, message laissé',
      'Dossier RSA à compléter, rendez-vous proposé',
      'Souhaite une aide pour la complémentaire santé',
      'Échange bref, la personne va bien',
      'Besoin de vêtements chauds',
      'A perdu ses papiers, démarches à reprendre',
      'Accompagné à la CPAM',
    ]),
    reasons: enc(['Besoin alimentaire', 'Accès aux droits', 'Logement', 'Santé']),
    sharedSummaries: enc(['Famille de trois personnes', 'Personne seule', 'Couple sans enfant']),
    locations: enc([
      'Devant la médiathèque',
      'Sous le pont de la Basse-Chaîne',
      'Square Jeanne-d’Arc',
    ]),
    concerns: enc([
      'Une personne dort dehors depuis plusieurs nuits',
      'Un voisin âgé ne sort plus de chez lui',
      'Une famille semble sans chauffage',
    ]),
    dismissals: enc(['Signalement en double', 'Personne déjà suivie par le département']),
  };
}
type Pools = ReturnType<typeof cipherPools>;

/** A PostgreSQL array literal, passed as one text parameter (knex spreads JS arrays). */
const pgArray = (xs: readonly (string | null)[]) =>
  `{${xs.map((x) => (x === null ? 'NULL' : `"${x.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;

const sqlList = (xs: readonly string[]) =>
  `ARRAY[${xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(',')}]`;
/** The element of a SQL array literal picked by a number in [0, 1). */
const pick = (array: string, n: number, r: string) => `(${array})[1 + floor(${r} * ${n})::int]`;

/**
 * A version-4-shaped UUID whose first 48 bits are `n`: rows written in the order of n land at the
 * right end of their primary-key and person_id indexes instead of anywhere in them, which keeps
 * the ten million contacts' index writes in memory (random UUIDs made the seed several times
 * slower as the indexes outgrew the buffer cache). The rest is random.
 */
const orderedUuid = (n: string) =>
  `CAST(lpad(to_hex(${n}), 12, '0') || '4' || lpad(to_hex(floor(random() * 4096)::int), 3, '0') || '8'
    || lpad(to_hex(floor(random() * 4096)::int), 3, '0') || lpad(to_hex(floor(random() * 281474976710656)::bigint), 12, '0') AS uuid)`;

/** A receipt number ("K7QM-4XTD") from a number unique in the structure: a bijection of it. */
const RECEIPT_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
function receiptSql(n: string): string {
  const x = `((${n})::bigint * 1000003 + 7) % 656100000000`;
  const chars = Array.from(
    { length: 8 },
    (_, k) => `substr('${RECEIPT_ALPHABET}', 1 + ((${x}) / ${30 ** k}::bigint % 30)::int, 1)`,
  );
  return `${chars.slice(0, 4).join(' || ')} || '-' || ${chars.slice(4).join(' || ')}`;
}

/**
 * Persons `from`..`to` (their rank in the seed) and all their rows, in the caller's transaction.
 * Random choices come from random(), seeded from the chunk so that the data is the same from
 * one run to the next.
 */
async function writeChunk(trx: Knex.Transaction, s: Setup, pools: Pools, from: number, to: number) {
  const b = {
    s: s.structureId,
    o: s.otherId,
    ow: s.otherWorkerId,
    staff: pgArray(s.staff),
    districts: pgArray(s.districts),
    rights: pgArray(s.rights),
    partners: pgArray(s.partnerIds),
    services: pgArray(s.serviceIds),
    summaries: pgArray(pools.summaries),
    pu: s.partnerUserId,
    anchor: s.anchor,
    from,
    to,
  };
  const raw = (sql: string) => trx.raw(sql, b);
  await trx.raw('SELECT setseed(?)', [((from / CHUNK) % 1000) / 1000]);
  // As a replica applies rows: no foreign-key check (every row points at rows written just
  // before, by construction) and no trigger (the seed writes last_contact_at, each follow-up's
  // district and each referral's copies of its person itself). This halves the time of a
  // chunk; it needs a superuser, so elsewhere the checks simply run.
  if (s.superuser) await trx.raw('SET LOCAL session_replication_role = replica');
  const nStaff = s.staff.length;
  const nDistricts = s.districts.length;
  const surname = `CASE WHEN r_name < 0.35 THEN ${pick(sqlList(SURNAMES), SURNAMES.length, 'r_name / 0.35')}
      ELSE ${pick(sqlList(SURNAME_HEADS), SURNAME_HEADS.length, 'r_a')}
        || ${pick(sqlList(SURNAME_MIDDLES), SURNAME_MIDDLES.length, 'r_b')}
        || ${pick(sqlList(SURNAME_TAILS), SURNAME_TAILS.length, 'r_c')} END`;
  // One row per person, its random draws kept so that every table below agrees.
  await raw(`
    CREATE TEMP TABLE bench_p ON COMMIT DROP AS
    SELECT x.*,
      CASE WHEN x.n_contacts > 0 THEN x.active_end END AS last_contact_at,
      CASE WHEN x.r_closed < 0.25 AND x.active_end + interval '60 days' < CAST(:anchor AS timestamptz)
        THEN x.active_end + interval '60 days' END AS closed_at
    FROM (
      SELECT y.*,
        y.created_at + (CAST(:anchor AS timestamptz) - y.created_at) * sqrt(y.r_end) AS active_end
      FROM (
        SELECT i, ${orderedUuid('i')} AS id,
          CASE WHEN i % 10 = 0 THEN CAST(:o AS uuid) ELSE CAST(:s AS uuid) END AS structure_id,
          -- Staff in turn over the bench structure's persons (i - i / 10 counts them).
          CASE WHEN i % 10 = 0 THEN CAST(:ow AS uuid) ELSE (CAST(:staff AS uuid[]))[1 + (i - i / 10) % ${nStaff}] END AS referent_id,
          CASE WHEN i % 10 = 0 OR i % ${nDistricts + 1} = ${nDistricts} THEN NULL
            ELSE (CAST(:districts AS uuid[]))[1 + i % ${nDistricts + 1}] END AS district_id,
          CAST(:anchor AS timestamptz) - interval '6 years' * random() AS created_at,
          floor(random() * 21)::int AS n_contacts,
          floor(random() * 4)::int AS n_follow_ups,
          random() AS r_end, random() AS r_closed, random() AS r_name, random() AS r_a,
          random() AS r_b, random() AS r_c, random() AS r_first, random() AS r_alias,
          random() AS r_place, random() AS r_phone, random() AS r_rights, random() AS r_referral,
          random() AS r_report
        FROM generate_series(CAST(:from AS int), CAST(:to AS int)) i
      ) y
    ) x`);
  await raw(`
    INSERT INTO persons (id, structure_id, alias, first_name, last_name, birth_year, gender, phone,
      place, district_id, source, referent_id, created_by, created_at, updated_at, last_activity_at,
      last_contact_at, closed_at, closed_reason)
    SELECT id, structure_id,
      CASE WHEN r_alias < 0.2 THEN ${pick(sqlList(ALIASES), ALIASES.length, 'r_alias / 0.2')} END,
      CASE WHEN r_alias >= 0.2 AND r_alias < 0.9 THEN ${pick(sqlList(FIRST_NAMES), FIRST_NAMES.length, 'r_first')} END,
      CASE WHEN r_alias >= 0.1 THEN ${surname} END,
      CASE WHEN r_alias >= 0.15 THEN 1935 + (i::bigint * 7919) % 73 END,
      (ARRAY['female','male','male','female','unknown'])[1 + i % 5],
      CASE WHEN r_phone < 0.4 THEN '06 ' || lpad((i % 100000000)::text, 8, '0') END,
      CASE WHEN r_place < 0.2 THEN ${pick(sqlList(PLACES), PLACES.length, 'r_place / 0.2')} END,
      district_id,
      (ARRAY['outreach','outreach','outreach','partner','neighbour','citizen_report','institution','self'])[1 + i % 8],
      referent_id, referent_id, created_at, greatest(active_end, created_at),
      greatest(active_end, closed_at, created_at), last_contact_at, closed_at,
      CASE WHEN closed_at IS NOT NULL THEN 'Situation stabilisée' END
    FROM bench_p`);
  // About ten contacts a person, spread over the years its file was active; the last one at
  // active_end. Most people are not reached; channels as outreach teams use them.
  await raw(`
    INSERT INTO contacts (id, structure_id, person_id, author_id, occurred_at, channel, outcome, summary_enc, created_at)
    SELECT ${orderedUuid('i * 32 + j')}, structure_id, id, referent_id, at,
      CASE WHEN rc < 0.40 THEN 'street' WHEN rc < 0.65 THEN 'phone' WHEN rc < 0.75 THEN 'home_visit'
        WHEN rc < 0.85 THEN 'office' WHEN rc < 0.90 THEN 'sms' WHEN rc < 0.93 THEN 'email'
        WHEN rc < 0.95 THEN 'mail' WHEN rc < 0.98 THEN 'partner_meeting' ELSE 'video' END,
      CASE WHEN ro < 0.60 THEN 'not_reached' WHEN ro < 0.90 THEN 'reached'
        WHEN ro < 0.96 THEN 'appointment_set' ELSE 'refused' END,
      CASE WHEN rs < 0.05 THEN (CAST(:summaries AS text[]))[1 + floor(rc * ${pools.summaries.length})::int] END,
      at
    FROM (
      SELECT p.i, j, p.structure_id, p.id, p.referent_id,
        p.created_at + (p.active_end - p.created_at) * (j::float8 / p.n_contacts) AS at,
        random() AS rc, random() AS ro, random() AS rs
      FROM bench_p p CROSS JOIN LATERAL generate_series(1, p.n_contacts) j
    ) c`);
  // Without triggers, each person's first successful contact is written here, as the contacts'
  // triggers would have (migrations/20261208500000).
  if (s.superuser)
    await raw(`
      UPDATE persons p SET first_reached_at = m.first_at
        FROM (SELECT c.person_id, min(c.occurred_at) AS first_at FROM contacts c
               WHERE c.person_id IN (SELECT id FROM bench_p)
                 AND c.outcome IN ('reached', 'appointment_set')
               GROUP BY c.person_id) m
       WHERE p.id = m.person_id`);
  await writeChunkRest(trx, s, pools, b);
}

async function writeChunkRest(
  trx: Knex.Transaction,
  s: Setup,
  pools: Pools,
  b: Record<string, unknown>,
) {
  const raw = (sql: string, extra: Record<string, unknown> = {}) =>
    trx.raw(sql, { ...b, ...extra });
  // Follow-ups around the end of the file's activity: those due over a month ago done (a few
  // cancelled), three in ten of the last month's still open (late), those ahead open.
  await raw(`
    INSERT INTO follow_ups (id, structure_id, person_id, district_id, assignee_id, created_by, title,
      due_at, status, completed_at, created_at, updated_at)
    SELECT ${orderedUuid('i * 8 + j')}, structure_id, id, district_id, referent_id, referent_id, title,
      due_at, status,
      CASE WHEN status = 'done' THEN least(due_at + interval '1 day', CAST(:anchor AS timestamptz)) END,
      due_at - interval '14 days',
      due_at - interval '14 days'
    FROM (
      SELECT f.*, CASE WHEN f.closed_at IS NOT NULL OR f.due_at < CAST(:anchor AS timestamptz) - interval '30 days'
          THEN CASE WHEN f.r < 0.95 THEN 'done' ELSE 'cancelled' END
        WHEN f.due_at >= CAST(:anchor AS timestamptz) OR f.r < 0.3 THEN 'open' ELSE 'done' END AS status
      FROM (
        SELECT p.i, j, p.structure_id, p.id, p.district_id, p.referent_id, p.closed_at,
          (ARRAY['Relancer','Rappeler pour le dossier','Accompagner à la CAF','Vérifier la domiciliation','Passer voir'])[1 + (j + p.i) % 5] AS title,
          least(p.active_end + (j - 2) * interval '21 days', CAST(:anchor AS timestamptz) + interval '30 days') AS due_at,
          random() AS r
        FROM bench_p p CROSS JOIN LATERAL generate_series(1, p.n_follow_ups) j
      ) f
    ) g`);
  // Rights for about half of the people of the bench structure, one to three each, with their
  // history: identified as not claimed, then the status they reached.
  const nRights = s.rights.length;
  await raw(`
    CREATE TEMP TABLE bench_r ON COMMIT DROP AS
    SELECT p.id AS person_id, (CAST(:rights AS uuid[]))[1 + (p.i + m) % ${nRights}] AS right_id,
      p.created_at + interval '7 days' AS first_at,
      p.created_at + interval '7 days' + (p.active_end - p.created_at) * random() AS at,
      (ARRAY['not_claimed','claim_in_progress','obtained','obtained','refused','abandoned','not_claimed'])[1 + floor(random() * 7)::int] AS status,
      (ARRAY['non_knowledge','non_request','non_receipt','non_proposal'])[1 + (p.i + m) % 4] AS why,
      (15000 + (p.i % 60) * 1000)::int AS cents
    FROM bench_p p CROSS JOIN LATERAL generate_series(0, floor(p.r_rights * 6)::int - 3) m
    WHERE p.structure_id = :s AND p.r_rights >= 0.5`);
  await raw(`
    INSERT INTO person_rights (structure_id, person_id, right_id, status, reason, monthly_amount_cents,
      updated_by, created_at, updated_at)
    SELECT CAST(:s AS uuid), person_id, right_id, status, CASE WHEN status = 'not_claimed' THEN why END,
      CASE WHEN status = 'obtained' THEN cents END, NULL, first_at,
      CASE WHEN status = 'not_claimed' THEN first_at ELSE at END
    FROM bench_r`);
  await raw(`
    INSERT INTO person_right_events (structure_id, person_id, right_id, from_status, status, reason,
      monthly_amount_cents, at)
    SELECT CAST(:s AS uuid), person_id, right_id, NULL, 'not_claimed', why, NULL, first_at FROM bench_r
    UNION ALL
    SELECT CAST(:s AS uuid), person_id, right_id, 'not_claimed', status, NULL,
      CASE WHEN status = 'obtained' THEN cents END, at
    FROM bench_r WHERE status <> 'not_claimed'`);
  // A referral for one person in ten of the bench structure, to one of the partners, with the
  // consent it rests on and its events along the way to its status.
  const nPartners = s.partnerIds.length;
  await raw(`
    CREATE TEMP TABLE bench_ref ON COMMIT DROP AS
    SELECT q.*, CASE q.path_no
        WHEN 0 THEN ARRAY['requested'] WHEN 1 THEN ARRAY['requested','accepted']
        WHEN 2 THEN ARRAY['requested','accepted','in_progress']
        WHEN 3 THEN ARRAY['requested','accepted','in_progress','completed']
        WHEN 4 THEN ARRAY['requested','accepted','in_progress','completed']
        WHEN 5 THEN ARRAY['requested','rejected'] WHEN 6 THEN ARRAY['requested','cancelled']
        WHEN 7 THEN ARRAY['requested','accepted','in_progress','failed']
        WHEN 8 THEN ARRAY['requested','expired'] ELSE ARRAY['requested','accepted','on_hold'] END AS path
    FROM (
      SELECT gen_random_uuid() AS id, gen_random_uuid() AS consent_id, p.id AS person_id,
        p.referent_id, p.k, coalesce(p.last_contact_at, p.created_at) AS person_last_at,
        p.closed_at IS NULL AS person_active,
        (CAST(:partners AS uuid[]))[1 + p.k] AS partner_id,
        (CAST(:services AS uuid[]))[1 + p.k] AS service_id,
        least(p.created_at + (p.active_end - p.created_at) * random(), CAST(:anchor AS timestamptz) - interval '1 day') AS created_at,
        floor(random() * 10)::int AS path_no
      FROM (
        SELECT bp.*, CASE WHEN bp.i = 1 THEN 0 ELSE floor(bp.r_report * 1000)::int % ${nPartners} END AS k
        FROM bench_p bp
      ) p
      -- The seed's second person (the first of the bench structure) always has one, so the bench
      -- partner has a referral whatever the size.
      WHERE p.structure_id = :s AND (p.r_referral < 0.1 OR p.i = 1)
    ) q`);
  await raw(`
    INSERT INTO consents (id, structure_id, person_id, purpose, partner_id, method, shared_fields,
      given_at, recorded_by, created_at)
    SELECT consent_id, :s, person_id, 'referral', partner_id, 'oral', ARRAY['phone'], created_at,
      referent_id, created_at
    FROM bench_ref`);
  await raw(
    `
    INSERT INTO referrals (id, structure_id, person_id, partner_id, service_id, consent_id,
      requester_id, status, reason_enc, shared_summary_enc, status_reason_code, responded_at,
      closed_at, created_at, updated_at, person_last_at, person_active, person_referent_id)
    SELECT id, :s, person_id, partner_id, service_id, consent_id, referent_id,
      path[cardinality(path)], (CAST(:reasons AS text[]))[1 + path_no % ${pools.reasons.length}],
      (CAST(:shared AS text[]))[1 + path_no % ${pools.sharedSummaries.length}],
      CASE path[cardinality(path)] WHEN 'rejected' THEN 'no_capacity' END,
      CASE WHEN path[2] IN ('accepted', 'rejected') THEN created_at + interval '2 days' END,
      CASE WHEN path[cardinality(path)] IN ('completed','rejected','cancelled','failed','expired')
        THEN created_at + (cardinality(path) - 1) * interval '2 days' END,
      created_at, created_at + (cardinality(path) - 1) * interval '2 days', person_last_at,
      person_active, referent_id
    FROM bench_ref`,
    { reasons: pgArray(pools.reasons), shared: pgArray(pools.sharedSummaries) },
  );
  await raw(`
    INSERT INTO referral_events (referral_id, structure_id, from_status, to_status, actor_kind,
      actor_id, reason_code, at)
    SELECT r.id, :s, r.path[e.n - 1], e.status,
      CASE WHEN e.status = 'expired' THEN 'system' WHEN e.status IN ('requested','cancelled') OR r.k = 0 THEN 'user' ELSE 'link' END,
      CASE WHEN e.status IN ('requested','cancelled') THEN r.referent_id
        WHEN e.status = 'expired' THEN NULL WHEN r.k = 0 THEN CAST(:pu AS uuid) END,
      CASE WHEN e.status = 'rejected' THEN 'no_capacity' END,
      r.created_at + (e.n - 1) * interval '2 days'
    FROM bench_ref r CROSS JOIN LATERAL unnest(r.path) WITH ORDINALITY AS e(status, n)
    ORDER BY r.created_at, e.n`);
  // Reports: one person in fifty came from one (triaged into the file); now and then one
  // dismissed, and a few still waiting triage (received in the last days).
  await raw(
    `
    INSERT INTO reports (structure_id, receipt_number, channel, author_id, location_enc, who_enc,
      concern_enc, created_at, triaged_at, triaged_by, triage_action, person_id, triage_reason_enc)
    SELECT CAST(:s AS uuid), ${receiptSql('n')}, channel, NULL, (CAST(:locations AS text[]))[1 + n % ${pools.locations.length}],
      NULL, (CAST(:concerns AS text[]))[1 + n % ${pools.concerns.length}], created_at,
      triaged_at, triaged_by, action, person_id, reason
    FROM (
      SELECT p.i * 4 AS n, CASE WHEN p.i % 3 = 0 THEN 'partner' ELSE 'public' END AS channel,
        p.created_at - interval '1 day' AS created_at, p.created_at AS triaged_at,
        p.referent_id AS triaged_by, 'create_person' AS action, p.id AS person_id, NULL AS reason
      FROM bench_p p WHERE p.structure_id = :s AND p.r_report < 0.02
      UNION ALL
      SELECT p.i * 4 + 1, 'public', p.created_at, p.created_at + interval '2 days', p.referent_id,
        'dismiss', NULL, (CAST(:dismissals AS text[]))[1 + p.i % ${pools.dismissals.length}]
      FROM bench_p p WHERE p.structure_id = :s AND p.r_report >= 0.02 AND p.r_report < 0.022
      UNION ALL
      SELECT p.i * 4 + 2, 'public', CAST(:anchor AS timestamptz) - p.r_report * interval '5 days', NULL, NULL, NULL, NULL, NULL
      FROM bench_p p WHERE p.structure_id = :s AND p.r_report >= 0.9995
    ) r`,
    {
      locations: pgArray(pools.locations),
      concerns: pgArray(pools.concerns),
      dismissals: pgArray(pools.dismissals),
    },
  );
}
