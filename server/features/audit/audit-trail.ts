import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
import { answerWithin } from '../../lib/time-limit';
import type { AuditInput, AuditRepository, RequestContext } from './audit-repository';

export type { AuditEvent, AuditInput, RequestContext } from './audit-repository';

/** The most events one group commit writes in its INSERT; more wait for the next one. */
export const GROUP_COMMIT_MAX_EVENTS = 500;

interface Waiting {
  events: AuditInput[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A grouped INSERT refused for its rows (a constraint, a trigger: SQLSTATE classes 22 and 23,
 * P0001): nothing was written, so each caller's events may be written again on their own. A
 * lost connection or a timeout may have committed, and an audit row is never deleted: those
 * callers fail rather than risk writing their events twice.
 */
const refusedForItsRows = (err: unknown) =>
  /^(22|23)[0-9A-Z]{3}$|^P0001$/.test(String((err as { code?: unknown })?.code ?? ''));

/**
 * Group commit of the events written outside a transaction (every audited read): the events of
 * requests that arrive while an INSERT of the trail is in flight for a structure on a database
 * are written together by the next one, one statement and one commit for all of them, as
 * PostgreSQL groups the WAL flushes of concurrent commits. Alone, an event is written at once,
 * as before; under load, each read costs a share of a statement instead of one. Each caller
 * still waits for its own events to be committed before it answers, and fails if they are not.
 *
 * - One queue per structure (the first event's): an INSERT checks its structure's and actor's
 *   rows (foreign keys), so it waits while a change holds them (a settings change locks its
 *   structure); the other structures' reads do not wait behind it.
 * - An INSERT that does not answer within `boundMs` (a connection lost without a word) fails
 *   its callers with ETIMEDOUT (a 503) and frees the queue; the next one goes on.
 * - A grouped INSERT refused for its rows is written again caller by caller, so that one
 *   request's refused event fails that request only.
 */
function createGroupCommit(recordMany: AuditRepository['recordMany'], boundMs: number) {
  /** The callers waiting per structure on each database; a queue here is being drained. */
  const queues = new WeakMap<Knex, Map<string, Waiting[]>>();

  /** The events' INSERT, or an ETIMEDOUT error when it did not answer within the bound. */
  const insert = (db: Knex, events: AuditInput[]) =>
    answerWithin(recordMany(db, events), boundMs, () =>
      Object.assign(
        new Error(`The audit events were not written within ${boundMs} ms (database)`),
        { code: 'ETIMEDOUT' },
      ),
    );

  async function commit(db: Knex, batch: Waiting[]) {
    try {
      await insert(
        db,
        batch.flatMap((w) => w.events),
      );
      for (const w of batch) w.resolve();
    } catch (err) {
      if (batch.length === 1 || !refusedForItsRows(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => insert(db, w.events).then(w.resolve, w.reject)));
    }
  }

  async function drain(db: Knex, key: string, waiting: Waiting[]) {
    try {
      while (waiting.length) {
        let count = 0;
        let taken = 0;
        // Whole requests only; the first one whatever its size.
        while (
          taken < waiting.length &&
          (taken === 0 || count + waiting[taken].events.length <= GROUP_COMMIT_MAX_EVENTS)
        )
          count += waiting[taken++].events.length;
        await commit(db, waiting.splice(0, taken));
      }
    } finally {
      // Emptied with no await since: the next caller starts a new queue and its drain.
      queues.get(db)?.delete(key);
    }
  }

  return (db: Knex, events: AuditInput[]): Promise<void> => {
    if (!events.length) return Promise.resolve();
    let byStructure = queues.get(db);
    if (!byStructure) queues.set(db, (byStructure = new Map()));
    const key = events[0].structureId ?? '';
    const draining = byStructure.get(key);
    const waiting = draining ?? [];
    if (!draining) byStructure.set(key, waiting);
    return new Promise<void>((resolve, reject) => {
      waiting.push({ events, resolve, reject });
      if (!draining) void drain(db, key, waiting);
    });
  };
}

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one, else committed with the events of the requests that
 * arrive meanwhile (group commit, above). Rows stay in the audit repository; the container makes
 * one trail and hands it to every service that audits (`audit`).
 */
export function createAuditTrail(
  audits: Pick<AuditRepository, 'record' | 'recordMany'>,
  opts: {
    /** How long a grouped INSERT may go unanswered (databaseAnswerBoundMs in the app). */
    boundMs: number;
  },
) {
  // async: a throw while building the statement is a rejection of its callers, not of drain.
  const groupCommit = createGroupCommit(
    async (db, events) => audits.recordMany(db, events),
    opts.boundMs,
  );
  return {
    /**
     * Writes an event, in the caller's transaction when there is one. Given the request context
     * of reads running inside `together`, an event outside a transaction waits for the others.
     */
    record(db: Knex | Knex.Transaction, e: AuditInput, ctx?: RequestContext): Promise<void> {
      const batch = ctx?.auditBatch;
      // Inside a transaction the event stays in it: it commits, or rolls back, with the write.
      if ((db as Knex.Transaction).isTransaction) return audits.record(db, e);
      if (!batch) return groupCommit(db as Knex, [e]);
      batch.db ??= db;
      batch.events.push(e);
      return Promise.resolve();
    },

    /**
     * Runs reads that together make one answer (a person's page: the file, its timeline, its
     * rights) with a request context whose audit events, recorded outside a transaction, are
     * written in one INSERT when the reads end, before the caller answers: one commit instead
     * of one per read. Every event is still written, one row each, and whatever was read is
     * audited even if a later read failed; if writing the events fails, the caller fails and
     * shows nothing. A person one read found in the actor's scope is not checked again by the
     * others (`personsInScope`): one request, one actor.
     */
    async together<T>(ctx: RequestContext, reads: (ctx: RequestContext) => Promise<T>): Promise<T> {
      const batched: RequestContext = {
        ...ctx,
        auditBatch: { db: null, events: [] },
        personsInScope: new Set(),
      };
      try {
        return await reads(batched);
      } finally {
        const { db, events } = batched.auditBatch!;
        if (db) await groupCommit(db, events);
      }
    },

    /**
     * Runs a write whose 409 hands the caller the current object (`details.current`). Handing it
     * out is a read of person data, so it is audited; the write's transaction has rolled back by
     * then, so the event is written on its own, then the 409 goes on its way.
     */
    async conflictRead<T, C>(
      db: Knex,
      write: () => Promise<T>,
      event: (current: C) => AuditInput,
    ): Promise<T> {
      try {
        return await write();
      } catch (err) {
        const current =
          err instanceof ConflictError
            ? (err.details as { current?: C } | undefined)?.current
            : null;
        if (current) await groupCommit(db, [event(current)]);
        throw err;
      }
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
