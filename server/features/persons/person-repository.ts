import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { pageWithTotal } from '../../lib/paging';
import type { DuplicateReasonField, PathStatus } from './person-schemas';
import { PERSON_STATUS_SQL } from './person-status';
import {
  PERSON_REMINDER_COLUMNS,
  toReminderState,
  type ReminderRow,
  type ReminderState,
} from './person-reminders';

export interface Person {
  id: string;
  structureId: string;
  alias: string | null;
  firstName: string | null;
  lastName: string | null;
  birthYear: number | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  place: string | null;
  districtId: string | null;
  districtName: string | null;
  districtQpv: boolean | null;
  householdType: string | null;
  source: string;
  referentId: string | null;
  referentName: string | null;
  pauseReminders: boolean;
  situation: string | null;
  status: PathStatus;
  closedAt: Date | null;
  closedReason: string | null;
  anonymisedAt: Date | null;
  version: number;
  lastActivityAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A person's row as a write locks it: what the write's rules need, read by the lock (with
 * whether the file is still followed, for the system's moves: an expiry, the loop closing).
 */
export interface LockedPerson extends ReminderState {
  id: string;
  version: number;
  referentId: string | null;
  /** Its latest contact before this write (kept by triggers on contacts), or null. */
  lastContactAt: Date | null;
  /** When retention anonymised it; an anonymised file takes no new write. */
  anonymisedAt: Date | null;
}

/** The last activity moved on to `at` (never back: writes may commit out of order). */
const movedOn = (db: Knex | Knex.Transaction, at: Date) =>
  db.raw('greatest(last_activity_at, ?)', [at]);

/** Person columns in the API's camelCase, mapped once here. */
const COLUMNS: Record<string, string> = {
  alias: 'alias',
  firstName: 'first_name',
  lastName: 'last_name',
  birthYear: 'birth_year',
  gender: 'gender',
  phone: 'phone',
  email: 'email',
  address: 'address',
  place: 'place',
  districtId: 'district_id',
  householdType: 'household_type',
  source: 'source',
  referentId: 'referent_id',
  pauseReminders: 'pause_reminders',
  closedReason: 'closed_reason',
};

export type PersonWrite = Partial<{
  alias: string | null;
  firstName: string | null;
  lastName: string | null;
  birthYear: number | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  place: string | null;
  districtId: string | null;
  householdType: string | null;
  source: string;
  referentId: string | null;
  pauseReminders: boolean;
  situation: string | null;
  closedReason: string | null;
}>;

type Db = Knex | Knex.Transaction;

/** What the user typed is searched for literally: % and _ are not wildcards here. */
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The file's text holds the term (bound escaped): literally, accents and case aside. */
const CONTAINS_SQL = "p.search_text LIKE '%' || av_normalize(?) || '%'";

/**
 * How well a file matches the term, best first: the term as a whole word (3), at the start of a
 * word (2), anywhere (1), else its trigram word similarity (below 1). Hyphens and apostrophes
 * part words, as pg_trgm parts them ("Saint-Martin" holds the word "martin"). Bindings: the
 * escaped term three times, then the term. Files that contain what was typed come before those
 * only similar to it, and only the latter pay for a word similarity (the costliest part of a
 * search that matches many files).
 */
const SEARCH_RANK_SQL = (() => {
  const words = (sql: string) => `translate(${sql}, '-''’', '   ')`;
  const text = words('p.search_text');
  const term = words('av_normalize(?)');
  return `CASE
    WHEN ' ' || ${text} || ' ' LIKE '% ' || ${term} || ' %' THEN 3
    WHEN ' ' || ${text} LIKE '% ' || ${term} || '%' THEN 2
    WHEN ${CONTAINS_SQL} THEN 1
    ELSE word_similarity(av_normalize(?), p.search_text)
  END`;
})();

/** What the duplicates check compares, as typed (normalised in SQL). */
export interface DuplicateCriteria {
  alias?: string;
  firstName?: string;
  lastName?: string;
  place?: string;
  birthYear?: number;
  phone?: string;
}

/** Why a known file looks like the one described: which of its fields, how close (0 to 1). */
export interface DuplicateReason {
  field: DuplicateReasonField;
  similarity?: number;
}

export type DuplicateCandidate = Person & { score: number; reasons: DuplicateReason[] };

/**
 * Word similarity (pg_trgm, 0 to 1) from which two texts are said to look alike: "Lefebvre" and
 * "Lefèvre" (0.55) do, "Hélène Lefebvre" and "Hélène Dubois" (0.30) do not.
 */
export const DUPLICATE_SIMILARITY = 0.45;
/**
 * How much each reason weighs in the ranking. A shared phone is strong but numbers are passed
 * on; a close name with the same birth year is stronger still; an alias or a place is a hint.
 */
const WEIGHTS = { name: 1, alias: 0.7, place: 0.6, phone: 0.8, birthYear: 0.3 };

/** Matches counted (and, with a term, ranked) at most: beyond, the total says "more than". */
export const SEARCH_COUNT_CAP = 1000;

/**
 * Above this share of all files, a structure's key in the trigram index filters out less than
 * it costs (docs/benchmarks.md, "Issue 13: search by a structure that holds most files").
 */
export const DOMINANT_STRUCTURE_SHARE = 0.5;
/** How long a process trusts a structure's share before reading the statistics again. */
const SHARE_TTL_MS = 10 * 60 * 1000;

/**
 * A structure's share of all files, from PostgreSQL's own statistics of `persons.structure_id`
 * (its most common values, as ANALYZE and autovacuum keep them): 0 when the statistics do not
 * list it (a small structure, or a table never analysed).
 */
export async function structureShare(db: Db, structureId: string): Promise<number> {
  const { rows } = await db.raw<{ rows: { share: number | null }[] }>(
    `SELECT most_common_freqs[array_position(most_common_vals::text::uuid[], ?::uuid)] AS share
       FROM pg_stats
      WHERE schemaname = current_schema() AND tablename = 'persons' AND attname = 'structure_id'`,
    [structureId],
  );
  return Number(rows[0]?.share ?? 0);
}

export interface PersonSearch {
  q?: string;
  status?: PathStatus;
  districtId?: string;
  referentId?: string;
  /** A right's code, a right status, a non-take-up reason: persons with one right matching all. */
  right?: string;
  rightStatus?: string;
  reason?: string;
  page: number;
  pageSize: number;
}

/**
 * Every query is scoped by structure here, so no caller can forget it. Free text is encrypted
 * on the way in and decrypted on the way out.
 */
export function createPersonRepository(cipher: Cipher) {
  /** Whether each structure holds most files, as last read from the statistics, and until when. */
  const dominance = new Map<string, { dominant: boolean; until: number }>();
  const dominates = async (db: Db, structureId: string): Promise<boolean> => {
    const known = dominance.get(structureId);
    if (known && known.until > Date.now()) return known.dominant;
    const dominant = (await structureShare(db, structureId)) >= DOMINANT_STRUCTURE_SHARE;
    dominance.set(structureId, { dominant, until: Date.now() + SHARE_TTL_MS });
    return dominant;
  };
  const toPerson = (r: Record<string, unknown>): Person => ({
    id: r.id as string,
    structureId: r.structure_id as string,
    alias: r.alias as string | null,
    firstName: r.first_name as string | null,
    lastName: r.last_name as string | null,
    birthYear: r.birth_year as number | null,
    gender: r.gender as string | null,
    phone: r.phone as string | null,
    email: r.email as string | null,
    address: r.address as string | null,
    place: (r.place as string | null) ?? null,
    districtId: r.district_id as string | null,
    districtName: (r.district_name as string | null) ?? null,
    districtQpv: (r.district_qpv as boolean | null) ?? null,
    householdType: r.household_type as string | null,
    source: r.source as string,
    referentId: r.referent_id as string | null,
    referentName: (r.referent_name as string | null) ?? null,
    pauseReminders: r.pause_reminders as boolean,
    situation: cipher.decryptOptional(r.situation_enc as string | null),
    status: r.status as PathStatus,
    closedAt: (r.closed_at as Date | null) ?? null,
    closedReason: r.closed_reason as string | null,
    anonymisedAt: (r.anonymised_at as Date | null) ?? null,
    version: r.version as number,
    lastActivityAt: r.last_activity_at as Date,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  });

  const toRow = (w: PersonWrite): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(w)) {
      if (value === undefined) continue;
      if (key === 'situation') row.situation_enc = cipher.encryptOptional(value as string | null);
      else if (COLUMNS[key]) row[COLUMNS[key]] = value;
    }
    return row;
  };

  const base = (db: Db, structureId: string) =>
    db('persons as p')
      .leftJoin('districts as d', 'd.id', 'p.district_id')
      .leftJoin('users as u', 'u.id', 'p.referent_id')
      .where('p.structure_id', structureId)
      .select(
        'p.*',
        'd.name as district_name',
        'd.qpv as district_qpv',
        'u.name as referent_name',
        db.raw(`${PERSON_STATUS_SQL} as status`),
      );

  return {
    async findById(db: Db, structureId: string, id: string): Promise<Person | null> {
      const row = await base(db, structureId).andWhere('p.id', id).first();
      return row ? toPerson(row) : null;
    },

    /**
     * What the reminder rules read of several persons of the structure, for a batch of deadlines:
     * one query on the persons table alone (no status, no joins).
     */
    async reminderStates(
      db: Db,
      structureId: string,
      ids: string[],
    ): Promise<({ id: string } & ReminderState)[]> {
      if (ids.length === 0) return [];
      const rows: ({ id: string } & ReminderRow)[] = await db('persons as p')
        .where({ 'p.structure_id': structureId })
        .whereIn('p.id', ids)
        .select('p.id', ...PERSON_REMINDER_COLUMNS);
      return rows.map((r) => ({ id: r.id, ...toReminderState(r) }));
    },

    /**
     * Locks the row of a person in scope for the rest of the transaction; null outside it. Given
     * `activityAt` (a write that is activity on the file, such as a contact), the lock is the
     * UPDATE that moves its last activity, so the row is locked and touched in one statement.
     */
    async lock(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
      activityAt?: Date,
    ): Promise<LockedPerson | null> {
      const columns = [
        'id',
        'version',
        'referent_id',
        'last_contact_at',
        'pause_reminders',
        'closed_at',
        'anonymised_at',
      ];
      const scoped = trx('persons').where({ id, structure_id: structureId });
      const row = activityAt
        ? (
            await scoped.update({ last_activity_at: movedOn(trx, activityAt) }).returning(columns)
          )[0]
        : await scoped.forUpdate().first(columns);
      return row
        ? {
            id: row.id,
            version: row.version,
            referentId: row.referent_id,
            lastContactAt: row.last_contact_at ?? null,
            ...toReminderState(row),
          }
        : null;
    },

    async exists(db: Db, structureId: string, id: string): Promise<boolean> {
      return Boolean(await db('persons').where({ id, structure_id: structureId }).first('id'));
    },

    /**
     * `createdAt` is the app clock's moment of creation: the no-contact rules count from it, and
     * a replanning reads it back from the row (the database's own now() differs by the
     * milliseconds between the two, which moved those rules at every settings change).
     */
    async insert(
      db: Db,
      structureId: string,
      createdBy: string,
      w: PersonWrite,
      createdAt: Date,
    ): Promise<string> {
      const [row] = await db('persons')
        .insert({
          ...toRow(w),
          structure_id: structureId,
          created_by: createdBy,
          created_at: createdAt,
          last_activity_at: createdAt,
        })
        .returning('id');
      return row.id as string;
    },

    /**
     * Writes only if the version still matches; returns false on a stale version. `closing` sets
     * or clears the closing reason with its moment (null reopens the path). The last activity
     * moves on to `at`, the app's clock, as every other write moves it.
     */
    async update(
      db: Db,
      structureId: string,
      id: string,
      version: number,
      w: PersonWrite,
      at: Date,
      closing?: { reason: string | null; at: Date | null },
    ): Promise<boolean> {
      const n = await db('persons')
        .where({ id, structure_id: structureId, version })
        .update({
          ...toRow(w),
          ...(closing ? { closed_reason: closing.reason, closed_at: closing.at } : {}),
          version: db.raw('version + 1'),
          updated_at: db.fn.now(),
          last_activity_at: movedOn(db, at),
        })
        .returning('id');
      return n.length === 1;
    },

    /**
     * The users of the structure still référent of an active file (neither closed nor
     * anonymised), whatever their role or state now: a leaver's files to move.
     */
    async activeFileReferents(
      db: Db,
      structureId: string,
    ): Promise<{ id: string; name: string }[]> {
      return db('users as u')
        .where('u.structure_id', structureId)
        .whereExists(
          db('persons as p')
            .whereRaw('p.referent_id = u.id')
            .andWhere('p.structure_id', structureId)
            .whereNull('p.closed_at')
            .whereNull('p.anonymised_at'),
        )
        .orderBy('u.name')
        .select('u.id', 'u.name');
    },

    /** How many active files (neither closed nor anonymised) a user is référent of. */
    async countActiveFilesOf(db: Db, structureId: string, referentId: string): Promise<number> {
      const [{ n }] = await db('persons')
        .where({ structure_id: structureId, referent_id: referentId })
        .whereNull('closed_at')
        .whereNull('anonymised_at')
        .count<{ n: string }[]>('* as n');
      return Number(n);
    },

    /**
     * Every file of the structure whose référent is `from` passes to `to`, closed ones included
     * (reopened, they have a référent at work); their ids, and whether each is active (not
     * closed). An anonymised file is left as it is: it takes no write, and its référent is kept
     * for the statistics.
     */
    async moveReferent(
      db: Db,
      structureId: string,
      from: string,
      to: string,
    ): Promise<{ id: string; active: boolean }[]> {
      const rows: { id: string; active: boolean }[] = await db('persons')
        .where({ structure_id: structureId, referent_id: from })
        .whereNull('anonymised_at')
        .update({ referent_id: to, version: db.raw('version + 1'), updated_at: db.fn.now() })
        .returning(['id', db.raw('closed_at IS NULL AS active')]);
      return rows.map((r) => ({ id: r.id, active: r.active }));
    },

    async touch(db: Db, structureId: string, id: string, at: Date): Promise<void> {
      await db('persons')
        .where({ id, structure_id: structureId })
        .update({ last_activity_at: movedOn(db, at) });
    },

    /**
     * Files of the structure that may be the person described, best first: names, alias and
     * place compared accent-insensitively and typo-tolerantly (pg_trgm on unaccented text), the
     * phone by its last nine digits, the birth year as a confirmation (alone, only when nothing
     * else is given). Candidates come from the (structure_id, search_text) trigram index and the
     * phone and birth-year indexes; only they are scored. Anonymised files are never offered.
     */
    async duplicates(
      knex: Knex,
      structureId: string,
      c: DuplicateCriteria,
      opts: { limit: number; excludeId?: string },
    ): Promise<{ items: DuplicateCandidate[]; total: number }> {
      const T = DUPLICATE_SIMILARITY;
      const full = [c.firstName, c.lastName].filter(Boolean).join(' ') || undefined;
      const b: Record<string, unknown> = {
        structureId,
        limit: opts.limit,
      };
      const term = (name: string, value: string | undefined) => {
        if (!value) return null;
        b[name] = value.replaceAll('\u0000', '');
        return `av_normalize(:${name})`;
      };
      const qFull = term('qFull', full);
      const qFirst = term('qFirst', c.firstName);
      const qLast = term('qLast', c.lastName);
      const qAlias = term('qAlias', c.alias);
      const qPlace = term('qPlace', c.place);
      const greatest = (parts: (string | null | false)[]) => {
        const kept = parts.filter((x): x is string => Boolean(x));
        return kept.length ? `coalesce(greatest(${kept.join(', ')}), 0)` : '0';
      };
      const cName = `av_normalize(concat_ws(' ', p.first_name, p.last_name))`;
      const cAlias = 'av_normalize(p.alias)';
      const cPlace = 'av_normalize(p.place)';
      const both = (a: string, z: string) =>
        `word_similarity(${a}, ${z}), word_similarity(${z}, ${a})`;
      // Whole names, or last names weighed by how the first names agree (a different first name
      // halves it; an unknown one nearly keeps it).
      const lastName =
        qLast &&
        `CASE WHEN p.last_name IS NULL THEN 0 ELSE similarity(${qLast}, av_normalize(p.last_name)) * ${
          qFirst
            ? `CASE WHEN p.first_name IS NULL THEN 0.9 ELSE 0.5 + 0.5 * similarity(${qFirst}, av_normalize(p.first_name)) END`
            : '0.9'
        } END`;
      // A known last name within the alias typed ("Mme Lefebre" and Lefèvre); a short one
      // ("Ba") would be found in too many aliases to mean anything.
      const nameInAlias =
        qAlias &&
        `CASE WHEN length(p.last_name) >= 4 THEN word_similarity(av_normalize(p.last_name), ${qAlias}) ELSE 0 END`;
      const sName = greatest([
        qFull &&
          `CASE WHEN p.first_name IS NULL AND p.last_name IS NULL THEN 0 ELSE similarity(${qFull}, ${cName}) END`,
        lastName,
        nameInAlias,
      ]);
      // The alias of a known file against the alias typed, or a last name or a place within it.
      const sAlias = greatest([
        qAlias && both(qAlias, cAlias),
        qLast && `word_similarity(${qLast}, ${cAlias})`,
        qPlace && `word_similarity(${qPlace}, ${cAlias})`,
      ]);
      // Its place against the place typed, or within the alias typed.
      const sPlace = greatest([
        qPlace && both(qPlace, cPlace),
        qAlias && `word_similarity(${cPlace}, ${qAlias})`,
      ]);
      let samePhone = 'false';
      let sameYear = 'false';
      const arms = [qFull, qLast, qAlias, qPlace]
        .filter(Boolean)
        .map((q) => `${q} <% p.search_text`);
      if (c.phone) {
        b.phone = c.phone;
        const key = `nullif(right(regexp_replace(:phone, '[^0-9]', '', 'g'), 9), '')`;
        samePhone = `coalesce(p.phone_key = ${key}, false)`;
        arms.push(`p.phone_key = ${key}`);
      }
      if (c.birthYear !== undefined) {
        b.birthYear = c.birthYear;
        sameYear = 'coalesce(p.birth_year = :birthYear, false)';
        // Alone, a birth year is all there is to go on; with anything else it only confirms.
        if (arms.length === 0) arms.push('p.birth_year = :birthYear');
      }
      if (opts.excludeId) b.excludeId = opts.excludeId;
      const yearOnly = !qFull && !qAlias && !qPlace && !c.phone;
      const score = [
        `CASE WHEN same_phone THEN ${WEIGHTS.phone} ELSE 0 END`,
        `CASE WHEN s_name >= ${T} THEN s_name * ${WEIGHTS.name} ELSE 0 END`,
        `CASE WHEN s_alias >= ${T} THEN s_alias * ${WEIGHTS.alias} ELSE 0 END`,
        `CASE WHEN s_place >= ${T} THEN s_place * ${WEIGHTS.place} ELSE 0 END`,
        `CASE WHEN same_year THEN ${WEIGHTS.birthYear} ELSE 0 END`,
      ].join(' + ');
      const sql = `
        SELECT c.*, ${score} AS score, count(*) OVER () AS total FROM (
          SELECT p.id, p.last_activity_at, ${sName} AS s_name, ${sAlias} AS s_alias,
                 ${sPlace} AS s_place, ${samePhone} AS same_phone, ${sameYear} AS same_year
            FROM persons p
           WHERE p.structure_id = :structureId AND p.anonymised_at IS NULL
             ${opts.excludeId ? 'AND p.id <> :excludeId' : ''}
             AND (${arms.join(' OR ')})
        ) c
        WHERE s_name >= ${T} OR s_alias >= ${T} OR s_place >= ${T} OR same_phone
              ${yearOnly ? 'OR same_year' : ''}
        ORDER BY score DESC, last_activity_at DESC, id
        LIMIT :limit`;
      // The trigram operator <% keeps what is at least this similar: set for this query only.
      const rows = await knex.transaction(async (trx) => {
        await trx.raw("SELECT set_config('pg_trgm.word_similarity_threshold', ?, true)", [
          String(DUPLICATE_SIMILARITY),
        ]);
        return (await trx.raw(sql, b)).rows as Array<{
          id: string;
          s_name: number;
          s_alias: number;
          s_place: number;
          same_phone: boolean;
          same_year: boolean;
          score: number;
          total: string;
        }>;
      });
      if (rows.length === 0) return { items: [], total: 0 };
      const persons = new Map(
        (
          await base(knex, structureId).whereIn(
            'p.id',
            rows.map((r) => r.id),
          )
        ).map((r) => [r.id as string, toPerson(r)]),
      );
      const round = (n: number) => Math.round(Number(n) * 100) / 100;
      const items = rows.flatMap((r) => {
        const person = persons.get(r.id);
        if (!person) return [];
        const reasons: DuplicateReason[] = [];
        const similar = (field: DuplicateReasonField, s: number) => {
          if (Number(s) >= DUPLICATE_SIMILARITY) reasons.push({ field, similarity: round(s) });
        };
        similar('name', r.s_name);
        similar('alias', r.s_alias);
        similar('place', r.s_place);
        if (r.same_phone) reasons.push({ field: 'phone' });
        if (r.same_year) reasons.push({ field: 'birthYear' });
        return [{ ...person, score: round(r.score), reasons }];
      });
      return { items, total: Number(rows[0].total) };
    },

    /**
     * A page of the structure's persons matching the filters, best first. At most
     * SEARCH_COUNT_CAP + 1 matches are read: beyond SEARCH_COUNT_CAP the total says "at least
     * that many" (`totalCapped`), which a worker answers by typing more, and a broad word ("mar")
     * over a million files costs no more than a thousand matches. With a term, those candidates
     * come from the trigram index and are ranked (SEARCH_RANK_SQL), then by last activity and id, in one
     * statement, which returns the page's ids and their count (not a thousand rows for the app to
     * sort); only the page's rows are then read whole. A term that matches more than the cap is
     * ranked among the first SEARCH_COUNT_CAP + 1 the index gives.
     */
    async search(
      db: Db,
      structureId: string,
      s: PersonSearch,
    ): Promise<{ items: Person[]; total: number; totalCapped: boolean }> {
      // PostgreSQL text cannot hold U+0000 and no stored name does: drop it rather than fail.
      const term = s.q?.replaceAll('\u0000', '');
      const filter = (q: Knex.QueryBuilder) => {
        if (term) {
          // Accent-insensitive substring or typo-tolerant word match (pg_trgm word similarity).
          q.andWhere((w) =>
            w
              .whereRaw(CONTAINS_SQL, [escapeLike(term)])
              .orWhereRaw('av_normalize(?) <% p.search_text', [term]),
          );
          // An anonymised file has no name left to find: its neutral label ("Personne
          // anonymisée") would match every "Anne" or "person" typed. The list without a term
          // still shows them.
          q.whereNull('p.anonymised_at');
        }
        if (s.status) q.andWhereRaw(`${PERSON_STATUS_SQL} = ?`, [s.status]);
        if (s.districtId) q.andWhere('p.district_id', s.districtId);
        if (s.referentId) q.andWhere('p.referent_id', s.referentId);
        if (s.right || s.rightStatus || s.reason) {
          q.whereExists((w) => {
            w.select(db.raw('1'))
              .from('person_rights as pr')
              .join('rights as rt', 'rt.id', 'pr.right_id')
              .whereRaw('pr.person_id = p.id')
              .andWhere('pr.structure_id', structureId);
            if (s.right) w.andWhere('rt.code', s.right);
            if (s.rightStatus) w.andWhere('pr.status', s.rightStatus);
            if (s.reason) w.andWhere('pr.reason', s.reason);
          });
        }
        return q;
      };
      // Always scoped. With a term, a structure holding most files is checked on the rows the
      // trigram index gives rather than as a key of that index: its posting list spans nearly the
      // whole table, and reading it cost more than the few other structures' rows it rules out
      // (the statement ran 1.7 times faster at 1 M files in one structure, 2.5 times slower for
      // a structure of a tenth of them; docs/benchmarks.md).
      const scoped =
        term && (await dominates(db, structureId))
          ? db('persons as p').whereRaw('(p.structure_id = ?) IS TRUE', [structureId])
          : db('persons as p').where('p.structure_id', structureId);
      const filtered = filter(scoped);
      const offset = (s.page - 1) * s.pageSize;
      const total = (n: number) => ({
        total: Math.min(n, SEARCH_COUNT_CAP),
        totalCapped: n > SEARCH_COUNT_CAP,
      });
      if (!term) {
        // Newest activity first, from the (structure_id, last_activity_at) index; counted up to
        // the cap.
        const { rows, total: n } = await pageWithTotal<Record<string, unknown>>(
          s,
          (limit, pageOffset) =>
            filter(base(db, structureId))
              .orderBy('p.last_activity_at', 'desc')
              .orderBy('p.id')
              .limit(limit)
              .offset(pageOffset),
          () =>
            db
              .from(
                filtered
                  .clone()
                  .select(db.raw('1'))
                  .limit(SEARCH_COUNT_CAP + 1)
                  .as('x'),
              )
              .count<{ count: string }[]>('* as count')
              .then(([r]) => r.count),
        );
        return { items: rows.map(toPerson), ...total(n) };
      }
      // The matches are planned as a whole (a materialised CTE is planned without the LIMIT
      // outside it), so they come from the trigram index; the LIMIT stops reading them. A LIMIT
      // on the query itself made PostgreSQL scan the table until it found enough, which is
      // slow for a word rarer than it guessed. The first SEARCH_COUNT_CAP + 1 are ranked there
      // too (similarity, last activity, id) and only the page's ids come back, with the count.
      const matches = () =>
        db.withMaterialized(
          'm',
          filtered
            .clone()
            .select(
              'p.id',
              'p.last_activity_at',
              db.raw(`${SEARCH_RANK_SQL} AS sim`, [
                ...Array<string>(3).fill(escapeLike(term)),
                term,
              ]),
            ),
        );
      const capped = (q: Knex.QueryBuilder) =>
        q
          .select('*')
          .from('m')
          .limit(SEARCH_COUNT_CAP + 1);
      const page: { id: string; total: string }[] = await matches()
        .with('c', capped)
        .select('id', db.raw('count(*) OVER () AS total'))
        .from('c')
        .orderBy('sim', 'desc')
        .orderByRaw('last_activity_at DESC NULLS LAST')
        .orderBy('id')
        .limit(s.pageSize)
        .offset(offset);
      // Past the last page no row carries the count: counted alone (a link to a page that
      // no longer exists, which the pages answer by going back to the last one).
      const n = page.length
        ? Number(page[0].total)
        : offset === 0
          ? 0
          : Number(
              (
                await matches().with('c', capped).from('c').count<{ count: string }[]>('* as count')
              )[0].count,
            );
      const byId = new Map(
        page.length
          ? (
              await base(db, structureId).whereIn(
                'p.id',
                page.map((c) => c.id),
              )
            ).map((r) => [r.id as string, toPerson(r)])
          : [],
      );
      return {
        items: page.flatMap((c) => byId.get(c.id) ?? []),
        ...total(n),
      };
    },
  };
}

export type PersonRepository = ReturnType<typeof createPersonRepository>;
