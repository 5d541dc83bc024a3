import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
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
 * Group commit of the events written outside a transaction (every audited read): the events of
 * requests that arrive while an INSERT of the trail is in flight on a database are written
 * together by the next one, one statement and one commit for all of them, as PostgreSQL groups
 * the WAL flushes of concurrent commits. Alone, an event is written at once, as before; under
 * load, each read costs a share of a statement instead of one. Each caller still waits for its
 * own events to be committed before it answers, and fails if they are not. Should a grouped
 * INSERT fail, each caller's events are written again on their own, so that one request's
 * refused event fails that request only.
 */
function createGroupCommit(recordMany: AuditRepository['recordMany']) {
  const queues = new WeakMap<Knex, { waiting: Waiting[]; busy: boolean }>();

  async function commit(db: Knex, batch: Waiting[]) {
    try {
      await recordMany(
        db,
        batch.flatMap((w) => w.events),
      );
      for (const w of batch) w.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      await Promise.all(batch.map((w) => recordMany(db, w.events).then(w.resolve, w.reject)));
    }
  }

  async function drain(db: Knex, queue: { waiting: Waiting[]; busy: boolean }) {
    queue.busy = true;
    try {
      while (queue.waiting.length) {
        let count = 0;
        let taken = 0;
        // Whole requests only; the first one whatever its size.
        while (
          taken < queue.waiting.length &&
          (taken === 0 || count + queue.waiting[taken].events.length <= GROUP_COMMIT_MAX_EVENTS)
        )
          count += queue.waiting[taken++].events.length;
        await commit(db, queue.waiting.splice(0, taken));
      }
    } finally {
      queue.busy = false;
    }
  }

  return (db: Knex, events: AuditInput[]): Promise<void> => {
    if (!events.length) return Promise.resolve();
    let queue = queues.get(db);
    if (!queue) queues.set(db, (queue = { waiting: [], busy: false }));
    const q = queue;
    return new Promise<void>((resolve, reject) => {
      q.waiting.push({ events, resolve, reject });
      if (!q.busy) void drain(db, q);
    });
  };
}

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one, else committed with the events of the requests that
 * arrive meanwhile (group commit, above). Rows stay in the audit repository; the container makes
 * one trail and hands it to every service that audits (`audit`).
 */
export function createAuditTrail(audits: Pick<AuditRepository, 'record' | 'recordMany'>) {
  const groupCommit = createGroupCommit((db, events) => audits.recordMany(db, events));
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
