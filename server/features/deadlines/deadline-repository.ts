import type { Knex } from 'knex';
import { idIn } from '../../lib/id-list';
import { pageWithTotal } from '../../lib/paging';

export type DeadlineStatus = 'pending' | 'done' | 'cancelled' | 'skipped' | 'failed';

export interface Deadline {
  id: string;
  structureId: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  dueAt: Date;
  status: DeadlineStatus;
  enqueuedAt: Date | null;
  processedAt: Date | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

export interface NewDeadline {
  structureId: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  dueAt: Date;
}

/** A pending deadline to move to a new due moment. */
export interface DeadlineMove {
  id: string;
  dueAt: Date;
}

/** How many pending deadlines a settings change reads at a time (about; see eachPendingOfKinds). */
const REPLAN_BATCH = 1000;

/** The next rows of the re-planning cursor (a FETCH takes no parameter: `n` is a number). */
const fetchPendingOfKindsSql = (n: number) =>
  `FETCH FORWARD ${Math.max(1, Math.trunc(n))} FROM pending_of_kinds`;

interface DeadlineRow {
  id: string;
  structure_id: string;
  kind: string;
  subject_type: string;
  subject_id: string;
  due_at: Date;
  status: DeadlineStatus;
  enqueued_at: Date | null;
  processed_at: Date | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
}

export function toDeadline(r: DeadlineRow): Deadline {
  return {
    id: r.id,
    structureId: r.structure_id,
    kind: r.kind,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    dueAt: new Date(r.due_at),
    status: r.status,
    enqueuedAt: r.enqueued_at ? new Date(r.enqueued_at) : null,
    processedAt: r.processed_at ? new Date(r.processed_at) : null,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: new Date(r.created_at),
  };
}

/**
 * The outbox table. Deadlines are system rows (not person data read by users), so they are
 * addressed by id; every row still carries its structure.
 */
/**
 * The kinds a structure runs once per moment, each planning its next (the daily digest, the
 * nightly retention run, the hourly observation refresh). Each has a partial unique index on
 * (subject_id, due_at) for its kind.
 */
export type StructureRunKind = 'digest.daily' | 'retention.nightly' | 'observation.refresh';

/**
 * A structure's run planned once: the ON CONFLICT predicate names the kind's partial unique index
 * literally (PostgreSQL infers the index from it), so each kind has its statement, written here.
 */
const planOnceSql = (kind: StructureRunKind) =>
  `INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at)
   VALUES (:structureId, :kind, 'structure', :structureId, :dueAt)
   ON CONFLICT (subject_id, due_at) WHERE kind = '${kind}' AND status <> 'cancelled'
   DO NOTHING RETURNING id`;
const PLAN_STRUCTURE_RUN_ONCE_SQL: Record<StructureRunKind, string> = {
  'digest.daily': planOnceSql('digest.daily'),
  'retention.nightly': planOnceSql('retention.nightly'),
  'observation.refresh': planOnceSql('observation.refresh'),
};

export function createDeadlineRepository() {
  const repo = {
    /** The due moment of the oldest pending deadline (the deadlines_pending index), or null. */
    async oldestPendingDueAt(db: Knex | Knex.Transaction): Promise<Date | null> {
      const row = await db('deadlines')
        .where({ status: 'pending' })
        .min({ oldest: 'due_at' })
        .first();
      return row?.oldest ? new Date(row.oldest as Date) : null;
    },

    /** Plans a structure's run of `kind` once at `dueAt`: a second plan is a no-op (null). */
    async planStructureRunOnce(
      db: Knex | Knex.Transaction,
      kind: StructureRunKind,
      structureId: string,
      dueAt: Date,
    ): Promise<string | null> {
      const rows = await db.raw(PLAN_STRUCTURE_RUN_ONCE_SQL[kind], { structureId, kind, dueAt });
      return rows.rows[0]?.id ?? null;
    },

    /** Structures with no run of `kind` pending. */
    async structuresWithoutRun(
      db: Knex | Knex.Transaction,
      kind: StructureRunKind,
    ): Promise<string[]> {
      const rows = await db('structures as s')
        .whereNotExists(
          db('deadlines as d')
            .whereRaw('d.subject_id = s.id')
            .andWhere({ 'd.kind': kind, 'd.status': 'pending' }),
        )
        .select('s.id');
      return rows.map((r: { id: string }) => r.id);
    },

    async insert(trx: Knex.Transaction, d: NewDeadline): Promise<string> {
      const [id] = await repo.insertAll(trx, [d]);
      return id;
    },

    /** Several deadlines in one INSERT; their ids in the order given. */
    async insertAll(trx: Knex.Transaction, ds: readonly NewDeadline[]): Promise<string[]> {
      if (ds.length === 0) return [];
      const rows: { id: string }[] = await trx('deadlines')
        .insert(
          ds.map((d) => ({
            structure_id: d.structureId,
            kind: d.kind,
            subject_type: d.subjectType,
            subject_id: d.subjectId,
            due_at: d.dueAt,
          })),
        )
        .returning('id');
      return rows.map((r) => r.id);
    },

    /** Cancels the pending deadlines of a subject (all kinds, or the ones named); returns their ids. */
    async cancelPending(
      trx: Knex.Transaction,
      subjectType: string,
      subjectId: string,
      kinds?: string[],
    ): Promise<string[]> {
      // A row a job is processing is skipped, not waited for: the job locks its row (FOR UPDATE),
      // then the subject (person, referral) the caller already holds, so waiting would deadlock.
      // The job, once it has the subject, re-checks it and skips. KEY SHARE conflicts with that
      // lock only, not with the short updates of the relay (enqueued_at), which the update below
      // waits for; once taken, it keeps a job from starting on the row until this commits.
      const free = trx('deadlines')
        .select('id')
        .where({ subject_type: subjectType, subject_id: subjectId, status: 'pending' })
        .forKeyShare()
        .skipLocked();
      if (kinds) free.whereIn('kind', kinds);
      // Locked first, in a statement of its own: as a sub-select of the UPDATE, a row updated
      // meanwhile (the relay's enqueued_at) made PostgreSQL re-check it without end.
      return repo.cancelHeld(
        trx,
        ((await free) as { id: string }[]).map((r) => r.id),
      );
    },

    /**
     * The pending deadlines of these subjects of these kinds, locked as cancelPending locks them (a
     * row a job is processing is skipped; the others cannot start until this commits).
     */
    async pendingOfSubjects(
      trx: Knex.Transaction,
      subjectType: string,
      subjectIds: readonly string[],
      kinds: readonly string[],
    ): Promise<{ id: string; subjectId: string; kind: string; dueAt: Date }[]> {
      if (subjectIds.length === 0) return [];
      const rows = await trx('deadlines')
        .select('id', 'subject_id', 'kind', 'due_at')
        .where({ subject_type: subjectType, status: 'pending' })
        .modify(idIn, 'subject_id', subjectIds)
        .whereIn('kind', kinds)
        .forKeyShare()
        .skipLocked();
      return rows.map((r: { id: string; subject_id: string; kind: string; due_at: Date }) => ({
        id: r.id,
        subjectId: r.subject_id,
        kind: r.kind,
        dueAt: new Date(r.due_at),
      }));
    },

    /**
     * Cancels pending deadlines the transaction already holds, as pendingOfSubjects locked them
     * (no job can start on them, so nothing to skip); returns the ids it cancelled.
     */
    async cancelHeld(trx: Knex.Transaction, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await trx('deadlines')
        .modify(idIn, 'id', ids)
        .where({ status: 'pending' })
        .update({ status: 'cancelled', processed_at: trx.fn.now() })
        .returning('id');
      return rows.map((r: { id: string }) => r.id);
    },

    /** Cancels these deadlines if still pending (those a job holds skipped, as above); their ids. */
    async cancelPendingByIds(trx: Knex.Transaction, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      // Locked first, in a statement of its own (see cancelPending).
      const free: { id: string }[] = await trx('deadlines')
        .select('id')
        .modify(idIn, 'id', ids)
        .where({ status: 'pending' })
        .forKeyShare()
        .skipLocked();
      return repo.cancelHeld(
        trx,
        free.map((r) => r.id),
      );
    },

    /**
     * Moves pending deadlines to new moments: each row is cancelled and a copy due at its new
     * moment takes its place (a job already in Redis keeps its delay). A row a job is processing
     * is skipped, not waited for (see cancelPending), and stays where it is. Three statements
     * whatever the number of rows; returns the ids cancelled and those of their copies.
     */
    async reschedule(
      trx: Knex.Transaction,
      moves: readonly DeadlineMove[],
    ): Promise<{ cancelled: string[]; created: string[] }> {
      if (moves.length === 0) return { cancelled: [], created: [] };
      // Locked first, in a statement of its own (see cancelPending).
      const free: { id: string }[] = await trx('deadlines')
        .select('id')
        .modify(
          idIn,
          'id',
          moves.map((m) => m.id),
        )
        .where({ status: 'pending' })
        .forKeyShare()
        .skipLocked();
      const cancelled = await repo.cancelHeld(
        trx,
        free.map((r) => r.id),
      );
      if (cancelled.length === 0) return { cancelled, created: [] };
      const { rows } = await trx.raw(
        `INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at)
         SELECT d.structure_id, d.kind, d.subject_type, d.subject_id, m.due_at
           FROM jsonb_to_recordset(?::jsonb) AS m(id uuid, due_at timestamptz)
           JOIN deadlines d ON d.id = m.id
          WHERE m.id = ANY(?::uuid[])
         RETURNING id`,
        [JSON.stringify(moves.map((m) => ({ id: m.id, due_at: m.dueAt }))), cancelled],
      );
      return { cancelled, created: rows.map((r: { id: string }) => r.id) };
    },

    /**
     * A structure's pending deadlines of these kinds, for re-planning after a settings change,
     * handed to `batch` about `size` at a time, every pending row of a subject in the same batch
     * (a rule may count a subject's rows together: a referral's reminders), each subject's in
     * due order. Read through a cursor, sorted once: a structure may hold millions, and neither
     * one answer nor this process should hold them all. The cursor sees the rows as they were
     * when it opened, so the copies `batch` writes are not read again.
     */
    async eachPendingOfKinds(
      trx: Knex.Transaction,
      structureId: string,
      kinds: readonly string[],
      batch: (pending: Deadline[]) => Promise<void>,
      size = REPLAN_BATCH,
    ): Promise<void> {
      if (kinds.length === 0) return;
      await trx.raw(
        `DECLARE pending_of_kinds NO SCROLL CURSOR FOR
           SELECT * FROM deadlines
            WHERE structure_id = ? AND status = 'pending' AND kind = ANY(?::text[])
            ORDER BY subject_id, due_at, id`,
        [structureId, [...kinds]],
      );
      let held: Deadline[] = [];
      for (;;) {
        const { rows } = await trx.raw(fetchPendingOfKindsSql(size));
        const all = held.concat((rows as DeadlineRow[]).map(toDeadline));
        if (rows.length < size) {
          if (all.length > 0) await batch(all);
          break;
        }
        // The last subject may go on in the next rows: its rows wait for them.
        const last = all[all.length - 1].subjectId;
        let cut = all.length;
        while (cut > 0 && all[cut - 1].subjectId === last) cut -= 1;
        if (cut > 0) await batch(all.slice(0, cut));
        held = all.slice(cut);
      }
      await trx.raw('CLOSE pending_of_kinds');
    },

    async findById(db: Knex | Knex.Transaction, id: string): Promise<Deadline | null> {
      const row = await db('deadlines').where({ id }).first();
      return row ? toDeadline(row) : null;
    },

    /**
     * Locks the row for the processor of its own job: a second delivery waits, then sees it is
     * no longer pending. A job that runs was enqueued: a row still without `enqueued_at` (the
     * relay's mark skipped it while a job or a batch held it) is marked here, in the job's
     * transaction, so that no delivered deadline reads as never enqueued.
     */
    async lockForProcessing(trx: Knex.Transaction, id: string): Promise<Deadline | null> {
      const row = await trx('deadlines').where({ id }).forUpdate().first();
      if (!row) return null;
      if (row.enqueued_at !== null) return toDeadline(row);
      const [marked] = await trx('deadlines')
        .where({ id })
        .update({ enqueued_at: trx.fn.now() })
        .returning('*');
      return toDeadline(marked);
    },

    /**
     * Kind, status and attempts of deadlines, read without a lock or a transaction, in one
     * query: the worker's first look. Most deliveries of a batched kind find their row already
     * done by another job's batch, and stop here for the price of one indexed read, shared by
     * the jobs that start at the same moment.
     */
    async peekMany(
      db: Knex,
      ids: string[],
    ): Promise<Map<string, Pick<Deadline, 'kind' | 'status' | 'attempts'>>> {
      if (ids.length === 0) return new Map();
      const rows = await db('deadlines')
        .whereIn('id', ids)
        .select('id', 'kind', 'status', 'attempts');
      return new Map(
        rows.map((r) => [r.id as string, { kind: r.kind, status: r.status, attempts: r.attempts }]),
      );
    },

    /**
     * Claims up to `limit` more due deadlines for the batch `lead` opens: pending, of its kind
     * and structure, due at `now` at the latest, never failed (`attempts = 0`: a deadline that
     * failed once is delivered alone by its own job). Rows another transaction holds are
     * skipped, not waited for (`SKIP LOCKED`); the claim is the row lock, so a worker that dies
     * mid-batch releases them with its transaction, and each row's own job still delivers it.
     *
     * Latest due first, and among rows due at the same moment the last written first (the
     * `deadlines_claim` index, which holds every condition, read backwards: the plan does not
     * depend on statistics that may predate a burst of deadlines): the jobs of those wait at
     * the back of the queue. Claimed in queue order, they would be the very jobs the other
     * workers take next, which would then wait on the batch's locks instead of leading batches
     * of their own. Every row's own job still runs at its due moment, so the order only decides
     * which rows a batch takes early.
     */
    async claimDue(
      trx: Knex.Transaction,
      lead: Deadline,
      now: Date,
      limit: number,
    ): Promise<Deadline[]> {
      if (limit <= 0) return [];
      const rows = await trx('deadlines')
        .where({
          status: 'pending',
          kind: lead.kind,
          structure_id: lead.structureId,
          attempts: 0,
        })
        .andWhere('due_at', '<=', now)
        .andWhereNot('id', lead.id)
        .orderBy('due_at', 'desc')
        .limit(limit)
        .forUpdate()
        .skipLocked();
      return rows.map(toDeadline);
    },

    /**
     * Of these deadlines, the ids of those a later deadline of the same kind and subject
     * follows (see `hasNewer`): one query for a whole batch. Each id is looked up by its key, in
     * a sub-plan PostgreSQL does not flatten: as a join, when its statistics predated a burst of
     * deadlines, it chose to scan the whole table for the batch's 500 ids (2026-12-06, 100 000
     * deadlines due at once: 65 to 100 ms a batch, a parallel scan of 100 000 rows).
     */
    async withNewer(db: Knex | Knex.Transaction, ds: Deadline[]): Promise<Set<string>> {
      if (ds.length === 0) return new Set();
      const { rows } = await db.raw(
        `SELECT x.id FROM unnest(?::uuid[]) AS x(id)
          WHERE (SELECT EXISTS (SELECT 1 FROM deadlines n
                                 WHERE n.kind = d.kind AND n.subject_type = d.subject_type
                                   AND n.subject_id = d.subject_id AND n.created_at > d.created_at)
                   FROM deadlines d WHERE d.id = x.id)`,
        [ds.map((d) => d.id)],
      );
      return new Set(rows.map((r: { id: string }) => r.id));
    },

    /**
     * Whether a deadline of the same kind and subject was scheduled after this one (by a later
     * transaction), whatever its status. Compared in SQL: a Date would drop the microseconds.
     */
    async hasNewer(db: Knex | Knex.Transaction, d: Deadline): Promise<boolean> {
      const row = await db('deadlines')
        .where({ kind: d.kind, subject_type: d.subjectType, subject_id: d.subjectId })
        .where('created_at', '>', db('deadlines').where({ id: d.id }).select('created_at'))
        .first('id');
      return Boolean(row);
    },

    /**
     * Whether a deadline of these kinds about `d`'s subject, due at `d`'s moment or in the
     * `withinMs` before it, is still pending and has not failed yet: one waiting for its job, or
     * one a job is running now (read without a lock, so a row a job holds counts as pending).
     * Compared in SQL, as `hasNewer`.
     */
    async hasFirstRunDueWith(
      db: Knex | Knex.Transaction,
      d: Deadline,
      kinds: readonly string[],
      withinMs: number,
    ): Promise<boolean> {
      const row = await db('deadlines')
        .where({
          subject_type: d.subjectType,
          subject_id: d.subjectId,
          status: 'pending',
          attempts: 0,
        })
        .whereIn('kind', kinds)
        .whereNot({ id: d.id })
        .where('due_at', '<=', db('deadlines').where({ id: d.id }).select('due_at'))
        .where(
          'due_at',
          '>=',
          db('deadlines')
            .where({ id: d.id })
            .select(db.raw('due_at - make_interval(secs => ?)', [withinMs / 1000])),
        )
        .first('id');
      return Boolean(row);
    },

    async finish(
      trx: Knex.Transaction,
      id: string,
      status: Exclude<DeadlineStatus, 'pending'>,
      note?: string,
    ) {
      await trx('deadlines')
        .where({ id })
        .update({ status, processed_at: trx.fn.now(), last_error: note ?? null });
    },

    /** A batch's outcomes in one statement: each row done or skipped (its reason kept). */
    async finishMany(
      trx: Knex.Transaction,
      outcomes: { id: string; status: 'done' | 'skipped'; note: string | null }[],
    ) {
      if (outcomes.length === 0) return;
      await trx.raw(
        `UPDATE deadlines AS d
            SET status = o.status, processed_at = now(), last_error = o.note
           FROM jsonb_to_recordset(?::jsonb) AS o(id uuid, status text, note text)
          WHERE d.id = o.id`,
        [JSON.stringify(outcomes)],
      );
    },

    /**
     * One failed attempt of a pending deadline: counted, its error kept. `final` (only for what can
     * never succeed, UnrecoverableError) marks it failed; otherwise it stays pending, for BullMQ's
     * next attempt or, once they are used up, for the reconciler to re-arm.
     */
    async recordFailure(db: Knex, id: string, error: string, final: boolean) {
      await db('deadlines')
        .where({ id, status: 'pending' })
        .update({
          attempts: db.raw('attempts + 1'),
          last_error: error.slice(0, 2000),
          ...(final ? { status: 'failed', processed_at: db.fn.now() } : {}),
        });
    },

    /**
     * The reconciler re-adds the job of a pending deadline whose job failed: counted as an attempt,
     * so a job that keeps stalling (which our failed handler never hears of) still shows progress.
     * False when the row is no longer pending.
     */
    async recordRearm(db: Knex, id: string, note: string): Promise<boolean> {
      const rows = await db('deadlines')
        .where({ id, status: 'pending' })
        .update({ attempts: db.raw('attempts + 1'), last_error: note.slice(0, 2000) })
        .returning('id');
      return rows.length > 0;
    },

    /** Gives up on a pending deadline that kept failing long past its due moment; false if not pending. */
    async giveUp(db: Knex, id: string, reason: string): Promise<boolean> {
      const rows = await db('deadlines')
        .where({ id, status: 'pending' })
        .update({ status: 'failed', processed_at: db.fn.now(), last_error: reason.slice(0, 2000) })
        .returning('id');
      return rows.length > 0;
    },

    async pendingById(db: Knex, ids: string[]): Promise<Deadline[]> {
      if (ids.length === 0) return [];
      const rows = await db('deadlines').modify(idIn, 'id', ids).andWhere({ status: 'pending' });
      return rows.map(toDeadline);
    },

    /** The oldest pending deadlines never enqueued, but those named in `except`. */
    async notYetEnqueued(db: Knex, limit: number, except: string[] = []): Promise<Deadline[]> {
      const q = db('deadlines')
        .where({ status: 'pending' })
        .whereNull('enqueued_at')
        .orderBy('created_at')
        .limit(limit);
      if (except.length) q.whereRaw('NOT (id = ANY(?::uuid[]))', [except]);
      return (await q).map(toDeadline);
    },

    /** Key-set paging over every pending deadline, for the reconciler. */
    async pendingAfter(db: Knex, afterId: string | null, limit: number): Promise<Deadline[]> {
      const q = db('deadlines').where({ status: 'pending' }).orderBy('id').limit(limit);
      if (afterId) q.andWhere('id', '>', afterId);
      return (await q).map(toDeadline);
    },

    /**
     * Notes that these deadlines' jobs are in Redis. A row a job is processing is skipped, not
     * waited for: the job holds its row (FOR UPDATE) for as long as it runs, and the relay would
     * wait that long (up to the statement timeout) with every row of its batch. It happens when a
     * job went out but its row was not marked (a Redis answer late for the enqueue bound, then the
     * worker fast), and to rows a delivery batch has claimed before their jobs were added. The
     * skipped row keeps enqueued_at null while it is pending: a later pass of the relay adds its
     * job again (the same id, so nothing twice) and marks it once free, or its job marks it when
     * it runs (lockForProcessing). Returns the ids marked.
     */
    async markEnqueued(db: Knex, ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows: { id: string }[] = await db('deadlines')
        .whereIn(
          'id',
          db('deadlines').select('id').modify(idIn, 'id', ids).forNoKeyUpdate().skipLocked(),
        )
        .update({ enqueued_at: db.fn.now() })
        .returning('id');
      return rows.map((r) => r.id);
    },

    /**
     * A structure's deadlines for its admins, newest due first: those in difficulty (failed, or
     * pending with failed attempts), one status, or all.
     */
    async listForAdmin(
      db: Knex | Knex.Transaction,
      structureId: string,
      view: DeadlineStatus | 'troubled' | 'all',
      page: { page: number; pageSize: number },
    ): Promise<{ items: Deadline[]; total: number }> {
      const base = db('deadlines').where({ structure_id: structureId });
      if (view === 'troubled')
        base.andWhere((w) =>
          w
            .where({ status: 'failed' })
            .orWhere((p) => p.where({ status: 'pending' }).andWhere('attempts', '>', 0)),
        );
      else if (view !== 'all') base.andWhere({ status: view });
      const { rows, total } = await pageWithTotal(
        page,
        (limit, offset) =>
          base.clone().orderBy('due_at', 'desc').orderBy('id').limit(limit).offset(offset),
        () =>
          base
            .clone()
            .count<{ count: string }[]>('id as count')
            .then(([r]) => r.count),
      );
      return { items: rows.map(toDeadline), total };
    },

    /** Locks one deadline of the structure for the caller's transaction; null outside it. */
    async lockInStructure(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<Deadline | null> {
      const row = await trx('deadlines')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first();
      return row ? toDeadline(row) : null;
    },

    /** Pending again, due when it was, to be enqueued afresh; `note` replaces the last error. */
    async replan(trx: Knex.Transaction, id: string, note: string): Promise<Deadline> {
      const [row] = await trx('deadlines')
        .where({ id })
        .update({ status: 'pending', processed_at: null, enqueued_at: null, last_error: note })
        .returning('*');
      return toDeadline(row);
    },
  };
  return repo;
}

export type DeadlineRepository = ReturnType<typeof createDeadlineRepository>;
