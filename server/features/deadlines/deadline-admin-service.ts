import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { z } from 'zod';
import { deadlineJobId, type DeadlineJobData } from '../../../jobs/queues';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { InvalidTransitionError, NotFoundError } from '../../lib/errors';
import { paging, uuid, type Page } from '../../lib/validate';
import { auditTrail, type RequestContext } from '../audit/audit-trail';
import type { DeadlineRelay } from './deadline-relay';
import { toDeadline, type Deadline } from './deadline-repository';

/** Which deadlines the admins' list shows: in difficulty (default), failed for good, or any. */
export const DEADLINE_VIEWS = ['troubled', 'failed', 'pending', 'all'] as const;
export type DeadlineView = (typeof DEADLINE_VIEWS)[number];

export const listDeadlinesQuery = z
  .object({ view: z.enum(DEADLINE_VIEWS).default('troubled'), ...paging })
  .strict();
export type ListDeadlinesQuery = z.infer<typeof listDeadlinesQuery>;
export const deadlineParams = z.object({ id: uuid() }).strict();

/** A deadline as admins see it, for the OpenAPI document: kinds, ids and errors, no person data. */
export const deadlineView = z
  .object({
    id: z.uuid(),
    structureId: z.uuid(),
    kind: z.string(),
    subjectType: z.string(),
    subjectId: z.uuid(),
    dueAt: z.iso.datetime(),
    status: z.enum(['pending', 'done', 'cancelled', 'skipped', 'failed']),
    enqueuedAt: z.iso.datetime().nullable(),
    processedAt: z.iso.datetime().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .strict()
  .meta({ id: 'Deadline', description: 'A deadline of the outbox (kinds, ids, errors)' });

export interface DeadlineAdminServiceDeps {
  knex: Knex;
  queue: Queue<DeadlineJobData> | null;
  relay: Pick<DeadlineRelay, 'enqueue'>;
  clock: Clock;
}

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * The admins' view of the outbox (issue 10, item 8): what is failing or failed for good in
 * their structure, and a retry. Rows carry kinds, ids and error texts, never person data.
 */
export function createDeadlineAdminService({
  knex,
  queue,
  relay,
  clock,
}: DeadlineAdminServiceDeps) {
  return {
    async list(actor: Actor, q: ListDeadlinesQuery): Promise<Page<Deadline>> {
      const base = knex('deadlines').where({ structure_id: actor.structureId });
      if (q.view === 'troubled')
        base.andWhere((w) =>
          w
            .where({ status: 'failed' })
            .orWhere((p) => p.where({ status: 'pending' }).andWhere('attempts', '>', 0)),
        );
      else if (q.view !== 'all') base.andWhere({ status: q.view });
      const [rows, [{ count }]] = await Promise.all([
        base
          .clone()
          .orderBy('due_at', 'desc')
          .orderBy('id')
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        base.clone().count<{ count: string }[]>('id as count'),
      ]);
      return {
        items: rows.map(toDeadline),
        total: Number(count),
        page: q.page,
        pageSize: q.pageSize,
      };
    },

    /**
     * Plans a failed deadline (or one still failing) again: pending, due when it was (its
     * processor re-checks its subject, so one whose moment passed does only what still holds),
     * its old failed job removed and a fresh one added after commit. Audited.
     */
    async retry(actor: Actor, id: string, ctx: RequestContext): Promise<Deadline> {
      const deadline = await knex.transaction(async (trx) => {
        const row = await trx('deadlines')
          .where({ id, structure_id: actor.structureId })
          .forUpdate()
          .first();
        if (!row) throw new NotFoundError('Deadline');
        const d = toDeadline(row);
        if (!(d.status === 'failed' || (d.status === 'pending' && d.attempts > 0)))
          throw new InvalidTransitionError(
            `This deadline is ${d.status}: only a failing one is retried`,
            {
              current: d,
            },
          );
        const [updated] = await trx('deadlines')
          .where({ id })
          .update({
            status: 'pending',
            processed_at: null,
            enqueued_at: null,
            last_error: `Retried by an administrator at ${clock.now().toISOString()} (was: ${(d.lastError ?? '').slice(0, 1500)})`,
          })
          .returning('*');
        await auditTrail.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'deadline.retry',
          subjectType: 'deadline',
          subjectId: id,
          ip: ctx.ip,
          details: { kind: d.kind, was: d.status, attempts: d.attempts },
        });
        return toDeadline(updated);
      });
      // BullMQ ignores an add whose id still exists, even as a failed job: remove it first.
      if (queue) {
        await Promise.race([
          queue.remove(deadlineJobId(id)),
          new Promise((resolve) => setTimeout(resolve, ENQUEUE_TIMEOUT_MS).unref()),
        ]).catch(() => undefined);
      }
      // Redis away: the row keeps enqueued_at null and the relay adds it when Redis is back.
      await relay.enqueue([id]);
      return deadline;
    },
  };
}

export type DeadlineAdminService = ReturnType<typeof createDeadlineAdminService>;
