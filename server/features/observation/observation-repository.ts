import type { Knex } from 'knex';
import { sqlStatusList } from '../referrals/referral-state';
import {
  NO_KEY,
  OBSERVATION_GROUPINGS,
  SEVERAL_TEAMS_KEY,
  type ObservationGrouping,
} from './observation-schemas';
import {
  emptyMain,
  emptyPartner,
  type MainAggregate,
  type ObservationData,
  type PartnerAggregate,
  type RowLabel,
} from './observation-table';

type Db = Knex | Knex.Transaction;

/**
 * Runs the statements side by side on the pool, one after the other on a transaction (its one
 * connection answers one statement at a time).
 */
async function runAll<T>(db: Db, statements: (() => Promise<T>)[]): Promise<T[]> {
  if (!db.isTransaction) return Promise.all(statements.map((run) => run()));
  const out: T[] = [];
  for (const run of statements) out.push(await run());
  return out;
}

/** The shape of a snapshot's `data`; bump it when ObservationData changes, old ones are ignored. */
export const SNAPSHOT_VERSION = 1;

/** ObservationData as JSON: its maps as lists of [key, aggregate]. */
interface StoredData {
  totals: MainAggregate;
  groups: Record<ObservationGrouping, [string, MainAggregate][]>;
  partnerTotals: PartnerAggregate;
  partners: [string, PartnerAggregate][];
}

const stored = (d: ObservationData): StoredData => ({
  totals: d.totals,
  groups: Object.fromEntries(
    OBSERVATION_GROUPINGS.map((g) => [g, [...d.groups[g]]]),
  ) as StoredData['groups'],
  partnerTotals: d.partnerTotals,
  partners: [...d.partners],
});

const restored = (s: StoredData): ObservationData => ({
  totals: s.totals,
  groups: Object.fromEntries(
    OBSERVATION_GROUPINGS.map((g) => [g, new Map(s.groups[g])]),
  ) as ObservationData['groups'],
  partnerTotals: s.partnerTotals,
  partners: new Map(s.partners),
});

/** One structure's period, by its first and last day (YYYY-MM-DD, both included). */
export interface SnapshotKey {
  structureId: string;
  firstDay: string;
  lastDay: string;
}

export interface Snapshot {
  data: ObservationData;
  computedAt: Date;
}

/** PostgreSQL's lock_not_available: `lock_timeout` ran out (or NOWAIT found the row taken). */
const LOCK_NOT_AVAILABLE = '55P03';

/** A period's answer in place of an older one (or of one of another shape). */
async function upsertSnapshot(
  db: Db,
  key: SnapshotKey,
  s: Snapshot & { readAt?: Date },
): Promise<void> {
  await db.raw(
    `INSERT INTO observation_snapshots (structure_id, first_day, last_day, version, data, computed_at, read_at)
     VALUES (:structureId, :firstDay, :lastDay, :version, :data, :computedAt, :readAt)
     ON CONFLICT (structure_id, first_day, last_day) DO UPDATE SET
       version = excluded.version, data = excluded.data, computed_at = excluded.computed_at,
       read_at = greatest(observation_snapshots.read_at, excluded.read_at)
     WHERE observation_snapshots.computed_at <= excluded.computed_at
        OR observation_snapshots.version <> excluded.version`,
    {
      ...key,
      version: SNAPSHOT_VERSION,
      data: JSON.stringify(stored(s.data)),
      computedAt: s.computedAt,
      readAt: s.readAt ?? null,
    },
  );
}

export interface ObservationPeriod {
  structureId: string;
  /** Paris midnight of the first day, and of the day after the last. */
  start: Date;
  end: Date;
  /**
   * Every business day (YYYY-MM-DD) from the first day of the period to today, from the
   * structure's business calendar: partner response delays are counted on them in SQL.
   */
  businessDays: string[];
  /** The calendar days those business days are counted over. */
  firstDay: string;
  lastDay: string;
}

/**
 * Each referent's team key: their team, "multiple" when several, none when not in a team.
 * A CTE read by a hash join: one row per staff member rather than a look-up per person.
 */
const REFERENT_TEAMS = `referent_teams AS (
    SELECT tm.user_id, CASE count(*) WHEN 1 THEN min(tm.team_id::text) ELSE '${SEVERAL_TEAMS_KEY}' END AS team
    FROM team_members tm JOIN teams t ON t.id = tm.team_id AND t.structure_id = :structureId
    GROUP BY tm.user_id
  )`;

/** The grouping sets of the main table; which one a row belongs to is read from grouping(). */
const GROUPING_SETS = 'GROUPING SETS ((), (k.district), (k.source), (k.team))';
const DIMENSION = `CASE WHEN grouping(k.district) = 0 THEN 'district'
  WHEN grouping(k.source) = 0 THEN 'source' WHEN grouping(k.team) = 0 THEN 'team' ELSE 'total' END`;
const KEY = 'coalesce(k.district, k.source, k.team)';

/** Rights whose claim went through the partner's acceptance (any status after it). */
const ACCEPTED_STATUSES = sqlStatusList([
  'accepted',
  'in_progress',
  'on_hold',
  'completed',
  'failed',
]);

const PARIS_DAY = (col: string) => `(${col} AT TIME ZONE 'Europe/Paris')::date`;

interface MainRow {
  dim: string;
  key: string | null;
  identified?: string;
  reached?: string;
  median_days?: number | null;
  claim_in_progress?: string;
  obtained?: string;
  refused?: string;
  abandoned?: string;
  non_knowledge?: string;
  non_request?: string;
  non_receipt?: string;
  non_proposal?: string;
  amount_cents?: string | null;
  amount_persons?: string;
}

/**
 * The observation's aggregates, each computed in one SQL statement over the structure's rows:
 * people (identified, first reached, days to first contact), rights (by their last status at
 * the end of the period, among those recorded or changed in it) and referrals (by partner).
 * Anonymised files count: their district, rights and outcomes are kept for statistics.
 */
export function createObservationRepository() {
  return {
    async aggregates(db: Db, p: ObservationPeriod): Promise<ObservationData> {
      const bindings = {
        structureId: p.structureId,
        start: p.start,
        end: p.end,
        businessDays: p.businessDays,
        firstDay: p.firstDay,
        lastDay: p.lastDay,
      };
      const [people, rights, referrals] = await runAll(db, [
        () =>
          db.raw(
            // persons.first_reached_at: the first reached contact, kept by triggers on contacts.
            `WITH ${REFERENT_TEAMS}, base AS (
             SELECT p.id, p.district_id::text AS district, p.source, rt.team,
               p.created_at >= :start AND p.created_at < :end AS identified,
               coalesce(p.first_reached_at >= :start AND p.first_reached_at < :end, false) AS reached,
               CASE WHEN p.first_reached_at >= :start AND p.first_reached_at < :end
                 THEN greatest(0, ${PARIS_DAY('p.first_reached_at')} - ${PARIS_DAY('p.created_at')}) END AS days
             FROM persons p
             LEFT JOIN referent_teams rt ON rt.user_id = p.referent_id
             WHERE p.structure_id = :structureId
               AND ((p.created_at >= :start AND p.created_at < :end)
                 OR (p.first_reached_at >= :start AND p.first_reached_at < :end))
           )
           SELECT ${DIMENSION} AS dim, ${KEY} AS key,
             count(*) FILTER (WHERE k.identified) AS identified,
             count(*) FILTER (WHERE k.reached) AS reached,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY k.days) AS median_days
           FROM base k GROUP BY ${GROUPING_SETS}
           UNION ALL
           SELECT 'right', pr.right_id::text,
             count(*) FILTER (WHERE k.identified), count(*) FILTER (WHERE k.reached),
             percentile_cont(0.5) WITHIN GROUP (ORDER BY k.days)
           FROM base k JOIN person_rights pr ON pr.person_id = k.id AND pr.structure_id = :structureId
           GROUP BY pr.right_id`,
            bindings,
          ),
        () =>
          db.raw(
            `WITH ${REFERENT_TEAMS}, last AS (
             SELECT DISTINCT ON (e.person_id, e.right_id) e.person_id, e.right_id, e.status,
               e.reason, e.monthly_amount_cents,
               max(e.at) OVER (PARTITION BY e.person_id, e.right_id) >= :start AS touched
             FROM person_right_events e
             WHERE e.structure_id = :structureId AND e.at < :end
             ORDER BY e.person_id, e.right_id, e.at DESC, e.seq DESC
           ), k AS (
             SELECT l.*, p.district_id::text AS district, p.source, rt.team
             FROM last l JOIN persons p ON p.id = l.person_id AND p.structure_id = :structureId
             LEFT JOIN referent_teams rt ON rt.user_id = p.referent_id
             WHERE l.touched
           )
           SELECT CASE WHEN grouping(k.right_id) = 0 THEN 'right' ELSE ${DIMENSION} END AS dim,
             coalesce(k.right_id::text, ${KEY}) AS key,
             count(*) FILTER (WHERE k.status = 'claim_in_progress') AS claim_in_progress,
             count(*) FILTER (WHERE k.status = 'obtained') AS obtained,
             count(*) FILTER (WHERE k.status = 'refused') AS refused,
             count(*) FILTER (WHERE k.status = 'abandoned') AS abandoned,
             count(*) FILTER (WHERE k.status = 'not_claimed' AND k.reason = 'non_knowledge') AS non_knowledge,
             count(*) FILTER (WHERE k.status = 'not_claimed' AND k.reason = 'non_request') AS non_request,
             count(*) FILTER (WHERE k.status = 'not_claimed' AND k.reason = 'non_receipt') AS non_receipt,
             count(*) FILTER (WHERE k.status = 'not_claimed' AND k.reason = 'non_proposal') AS non_proposal,
             sum(k.monthly_amount_cents) FILTER (WHERE k.status = 'obtained') AS amount_cents,
             count(DISTINCT k.person_id) FILTER (WHERE k.status = 'obtained' AND k.monthly_amount_cents IS NOT NULL) AS amount_persons
           FROM k GROUP BY GROUPING SETS ((), (k.district), (k.source), (k.team), (k.right_id))`,
            bindings,
          ),
        () =>
          db.raw(
            // A business day's rank: how many business days up to it, from the period's start.
            `WITH cal AS (
             SELECT g::date AS day, count(b.day) OVER (ORDER BY g) AS rank
             FROM generate_series(CAST(:firstDay AS date), CAST(:lastDay AS date), interval '1 day') g
             LEFT JOIN unnest(CAST(:businessDays AS date[])) AS b(day) ON b.day = g::date
           ), r AS (
             SELECT r.partner_id, r.person_id, r.status, r.responded_at,
               r.status IN ${ACCEPTED_STATUSES} OR (r.status = 'cancelled' AND r.responded_at IS NOT NULL) AS accepted,
               ca.rank - cs.rank AS delay
             FROM referrals r
             LEFT JOIN cal cs ON cs.day = ${PARIS_DAY('r.created_at')}
             LEFT JOIN cal ca ON ca.day = ${PARIS_DAY('r.responded_at')}
             WHERE r.structure_id = :structureId AND r.created_at >= :start AND r.created_at < :end
           )
           SELECT r.partner_id::text AS key, grouping(r.partner_id) AS total,
             count(*) AS sent,
             count(*) FILTER (WHERE r.accepted) AS accepted,
             count(*) FILTER (WHERE NOT r.accepted AND r.status IN ('rejected', 'expired')) AS declined,
             count(*) FILTER (WHERE r.status = 'requested') AS waiting,
             count(*) FILTER (WHERE NOT r.accepted AND r.status = 'cancelled') AS withdrawn,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY r.delay) AS median_delay,
             count(DISTINCT r.person_id) FILTER (WHERE r.delay IS NOT NULL) AS answered_persons
           FROM r GROUP BY GROUPING SETS ((), (r.partner_id))`,
            bindings,
          ),
      ]);

      const data: ObservationData = {
        totals: emptyMain(),
        groups: Object.fromEntries(OBSERVATION_GROUPINGS.map((g) => [g, new Map()])) as Record<
          ObservationGrouping,
          Map<string, MainAggregate>
        >,
        partnerTotals: emptyPartner(),
        partners: new Map(),
      };
      const slot = (row: MainRow): MainAggregate => {
        if (row.dim === 'total') return data.totals;
        const map = data.groups[row.dim as ObservationGrouping];
        const key = row.key ?? NO_KEY;
        let agg = map.get(key);
        if (!agg) {
          agg = emptyMain();
          map.set(key, agg);
        }
        return agg;
      };
      for (const row of people.rows as MainRow[]) {
        const a = slot(row);
        a.counts.identified = Number(row.identified);
        a.counts.reached = Number(row.reached);
        a.medianDays = row.median_days === null ? null : Number(row.median_days);
      }
      for (const row of rights.rows as MainRow[]) {
        const a = slot(row);
        a.counts.claimInProgress = Number(row.claim_in_progress);
        a.counts.obtained = Number(row.obtained);
        a.counts.refused = Number(row.refused);
        a.counts.abandoned = Number(row.abandoned);
        a.counts.nonKnowledge = Number(row.non_knowledge);
        a.counts.nonRequest = Number(row.non_request);
        a.counts.nonReceipt = Number(row.non_receipt);
        a.counts.nonProposal = Number(row.non_proposal);
        a.amountCents = Number(row.amount_cents ?? 0);
        a.amountPersons = Number(row.amount_persons);
      }
      for (const row of referrals.rows as {
        key: string | null;
        total: number;
        sent: string;
        accepted: string;
        declined: string;
        waiting: string;
        withdrawn: string;
        median_delay: number | null;
        answered_persons: string;
      }[]) {
        const a: PartnerAggregate = {
          counts: {
            sent: Number(row.sent),
            accepted: Number(row.accepted),
            declined: Number(row.declined),
            waiting: Number(row.waiting),
            withdrawn: Number(row.withdrawn),
          },
          medianResponseDays: row.median_delay === null ? null : Number(row.median_delay),
          responsePersons: Number(row.answered_persons),
        };
        if (Number(row.total) === 1) data.partnerTotals = a;
        else data.partners.set(row.key!, a);
      }
      return data;
    },

    /** The stored answer of a period, of the current shape, or null. */
    async snapshot(db: Db, key: SnapshotKey): Promise<Snapshot | null> {
      const row = await db('observation_snapshots')
        .where({
          structure_id: key.structureId,
          first_day: key.firstDay,
          last_day: key.lastDay,
          version: SNAPSHOT_VERSION,
        })
        .first('data', 'computed_at');
      return row
        ? { data: restored(row.data as StoredData), computedAt: new Date(row.computed_at) }
        : null;
    },

    /**
     * Stores a period's answer computed at `computedAt`, in place of the older one. `readAt`:
     * the read it was computed for (a refresh leaves the read moment as it was).
     */
    async saveSnapshot(db: Db, key: SnapshotKey, s: Snapshot & { readAt?: Date }): Promise<void> {
      await upsertSnapshot(db, key, s);
    },

    /**
     * A read's `saveSnapshot`: the refresh writes every period in its deadline's transaction and
     * holds their rows (or a new period's key) until it commits, and a read must not wait for it
     * up to its statement timeout. Waits at most `lockWaitMs` for the row (another read storing
     * the same period holds it a moment), else stores nothing: the refresh stores its own
     * answer. Whether it stored it.
     */
    async saveSnapshotUnlessBusy(
      knex: Knex,
      key: SnapshotKey,
      s: Snapshot & { readAt?: Date },
      lockWaitMs: number,
    ): Promise<boolean> {
      try {
        await knex.transaction(async (trx) => {
          // SET LOCAL, with the value as a binding.
          await trx.raw("SELECT set_config('lock_timeout', ?, true)", [String(lockWaitMs)]);
          await upsertSnapshot(trx, key, s);
        });
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return false;
        throw err;
      }
    },

    /**
     * Notes a read of the period, at most once per `every` ms (a read writes nothing else). A row
     * a refresh is writing is skipped, not waited for: the read goes unnoted, and the next one
     * notes it.
     */
    async markRead(db: Db, key: SnapshotKey, now: Date, every: number): Promise<void> {
      const columns = ['structure_id', 'first_day', 'last_day'];
      await db('observation_snapshots')
        .whereIn(
          columns,
          db('observation_snapshots')
            .select(columns)
            .where({
              structure_id: key.structureId,
              first_day: key.firstDay,
              last_day: key.lastDay,
            })
            .andWhere((w) =>
              w.whereNull('read_at').orWhere('read_at', '<', new Date(now.getTime() - every)),
            )
            .forNoKeyUpdate()
            .skipLocked(),
        )
        .update({ read_at: now });
    },

    /** The periods of the structure read since `since`, the most recent read first. */
    async periodsRead(
      db: Db,
      structureId: string,
      since: Date,
      limit: number,
    ): Promise<{ firstDay: string; lastDay: string }[]> {
      const rows = await db('observation_snapshots')
        .where({ structure_id: structureId })
        .andWhere('read_at', '>=', since)
        .orderBy([
          { column: 'read_at', order: 'desc' },
          { column: 'computed_at', order: 'desc' },
        ])
        .limit(limit)
        .select(db.raw('first_day::text AS first_day'), db.raw('last_day::text AS last_day'));
      return rows.map((r: { first_day: string; last_day: string }) => ({
        firstDay: r.first_day,
        lastDay: r.last_day,
      }));
    },

    /** Deletes the structure's snapshots neither read nor computed since `before`; how many. */
    async deleteStale(db: Db, structureId: string, before: Date): Promise<number> {
      return db('observation_snapshots')
        .where({ structure_id: structureId })
        .andWhereRaw('coalesce(read_at, computed_at) < ?', [before])
        .delete();
    },

    /**
     * A refresh computes several periods in one transaction, in the background: its statements
     * may take longer than a request's (`DB_STATEMENT_TIMEOUT_MS`), up to this, and may start
     * PostgreSQL's default number of parallel workers (the connections start with
     * `DB_PARALLEL_WORKERS`, 0 by default: for a statement of seconds, workers pay off).
     */
    async allowLongStatements(trx: Knex.Transaction, ms: number): Promise<void> {
      // SET LOCAL, with the value as a binding.
      await trx.raw("SELECT set_config('statement_timeout', ?, true)", [String(Math.trunc(ms))]);
      await trx.raw(
        `SELECT set_config('max_parallel_workers_per_gather', boot_val, true)
           FROM pg_settings WHERE name = 'max_parallel_workers_per_gather'`,
      );
    },

    /** The rows every answer shows: the structure's districts, rights, teams and partners. */
    async dimensions(
      db: Db,
      structureId: string,
    ): Promise<{
      districts: RowLabel[];
      rights: (RowLabel & { id: string })[];
      teams: RowLabel[];
      partners: RowLabel[];
    }> {
      // One after the other: each is a few milliseconds, and the aggregates beside them
      // already hold three connections of the pool.
      const districts = await db('districts')
        .where({ structure_id: structureId })
        .orderBy('name')
        .select('id', 'name', 'qpv');
      const rights = await db('rights')
        .where({ structure_id: structureId })
        .orderBy('label')
        .select('id', 'code', 'label');
      const teams = await db('teams')
        .where({ structure_id: structureId })
        .orderBy('name')
        .select('id', 'name');
      // Every partner the structure ever referred to: a row that appears with its first
      // referral of a period would tell that there was one.
      const partners = await db('partners as pa')
        .whereExists(
          db('referrals as r')
            .whereRaw('r.partner_id = pa.id')
            .where('r.structure_id', structureId)
            .select(db.raw('1')),
        )
        .orderBy('pa.name')
        .select('pa.id', 'pa.name');
      return {
        districts: districts.map((d: { id: string; name: string; qpv: boolean }) => ({
          key: d.id,
          label: d.name,
          qpv: d.qpv,
        })),
        rights: rights.map((r: { id: string; code: string; label: string }) => ({
          id: r.id,
          key: r.code,
          label: r.label,
        })),
        teams: teams.map((t: { id: string; name: string }) => ({ key: t.id, label: t.name })),
        partners: partners.map((p: { id: string; name: string }) => ({ key: p.id, label: p.name })),
      };
    },
  };
}

export type ObservationRepository = ReturnType<typeof createObservationRepository>;
