import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { z } from 'zod';
import { deadlineJobId, type DeadlineJobData } from '../../../jobs/queues';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { InvalidTransitionError, NotFoundError } from '../../lib/errors';
import { within } from '../../lib/time-limit';
import { paging, uuid, type Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import { ENQUEUE_TIMEOUT_MS, type DeadlineRelay } from './deadline-relay';
import type { Deadline, DeadlineRepository } from './deadline-repository';

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
  audit: AuditTrail;
  knex: Knex;
  queue: Queue<DeadlineJobData> | null;
  relay: Pick<DeadlineRelay, 'enqueue'>;
  clock: Clock;
  deadlines: Pick<DeadlineRepository, 'listForAdmin' | 'lockInStructure' | 'replan'>;
}

/**
 * The admins' view of the outbox (issue 10, item 8): what is failing or failed for good in
 * their structure, and a retry. Rows carry kinds, ids and error texts, never person data.
 */
export function createDeadlineAdminService({
  knex,
  queue,
  relay,
  clock,
  audit,
  deadlines,
}: DeadlineAdminServiceDeps) {
  return {
    async list(actor: Actor, q: ListDeadlinesQuery): Promise<Page<Deadline>> {
      const { items, total } = await deadlines.listForAdmin(knex, actor.structureId, q.view, q);
      return { items, total, page: q.page, pageSize: q.pageSize };
    },

    /**
     * Plans a failed deadline (or one still failing) again: pending, due when it was (its
     * processor re-checks its subject, so one whose moment passed does only what still holds),
     * its old failed job removed and a fresh one added after commit. Audited.
     */
    async retry(actor: Actor, id: string, ctx: RequestContext): Promise<Deadline> {
      const deadline = await knex.transaction(async (trx) => {
        const d = await deadlines.lockInStructure(trx, actor.structureId, id);
        if (!d) throw new NotFoundError('Deadline');
        if (!(d.status === 'failed' || (d.status === 'pending' && d.attempts > 0)))
          throw new InvalidTransitionError(
            `This deadline is ${d.status}: only a failing one is retried`,
            {
              current: d,
            },
          );
        const updated = await deadlines.replan(
          trx,
          id,
          `Retried by an administrator at ${clock.now().toISOString()} (was: ${(d.lastError ?? '').slice(0, 1500)})`,
        );
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'deadline.retry',
          subjectType: 'deadline',
          subjectId: id,
          ip: ctx.ip,
          details: { kind: d.kind, was: d.status, attempts: d.attempts },
        });
        return updated;
      });
      // BullMQ ignores an add whose id still exists, even as a failed job: remove it first.
      if (queue) {
        await within(queue.remove(deadlineJobId(id)), ENQUEUE_TIMEOUT_MS).catch(() => undefined);
      }
      // Redis away: the row keeps enqueued_at null and the relay adds it when Redis is back.
      await relay.enqueue([id]);
      return deadline;
    },
  };
}

export type DeadlineAdminService = ReturnType<typeof createDeadlineAdminService>;
