import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import {
  ForbiddenError,
  InvalidTransitionError,
  NotFoundError,
  StaleVersionError,
  ValidationError,
} from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../../lib/unit-of-work';
import type { Page } from '../../lib/validate';
import { auditRepository, type RequestContext } from '../audit/audit-repository';
import { auditConflictRead } from '../audit/conflict-audit';
import type { PersonRepository } from '../persons/person-repository';
import { userRepository } from '../users/user-repository';
import { followUpRepository, type FollowUp } from './follow-up-repository';
import {
  FOLLOW_UP_DUE,
  type CreateFollowUpInput,
  type ListFollowUpsQuery,
  type UpdateFollowUpInput,
} from './follow-up-schemas';

export interface FollowUpServiceDeps {
  knex: Knex;
  uow: UnitOfWork;
  persons: PersonRepository;
  clock: Clock;
}

/** A follow-up as the service hands it out. */
export interface FollowUpView extends FollowUp {
  /** Whether this caller may complete, reschedule or reassign it (open, and theirs or a manager's). */
  canChange: boolean;
}

export interface PlanInput {
  personId: string;
  title: string;
  dueAt: Date;
  assigneeId: string;
  contactId?: string | null;
}

export function createFollowUpService({ knex, uow, persons, clock }: FollowUpServiceDeps) {
  async function checkAssignee(db: Knex | Knex.Transaction, actor: Actor, assigneeId: string) {
    const u = await userRepository.findInStructure(db, actor.structureId, assigneeId);
    if (!u || !['worker', 'manager'].includes(u.role)) {
      throw new ValidationError('Invalid body: assigneeId: unknown worker', [
        { field: 'assigneeId', message: 'is not a worker of your structure' },
      ]);
    }
  }

  /** Plans a follow-up inside the caller's transaction, with its due moment in the outbox. */
  async function planInTransaction(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    p: PlanInput,
  ): Promise<string> {
    const id = await followUpRepository.insert(trx, actor.structureId, {
      ...p,
      createdBy: actor.id,
    });
    await outbox.schedule({
      structureId: actor.structureId,
      kind: FOLLOW_UP_DUE,
      subjectType: 'follow_up',
      subjectId: id,
      dueAt: p.dueAt,
    });
    return id;
  }

  /** Workers change their own follow-ups (assigned or planned by them); managers any of the structure. */
  function mayChange(actor: Actor, f: { assigneeId: string; createdBy: string | null }) {
    return actor.role === 'manager' || f.assigneeId === actor.id || f.createdBy === actor.id;
  }

  /** What the caller gets: the follow-up and whether update() would accept a change from them. */
  const view = (actor: Actor, f: FollowUp): FollowUpView => ({
    ...f,
    canChange: f.status === 'open' && mayChange(actor, f),
  });

  async function find(db: Knex | Knex.Transaction, actor: Actor, id: string, now: Date) {
    const f = await followUpRepository.findById(db, actor.structureId, id, now);
    return f ? view(actor, f) : null;
  }

  return {
    planInTransaction,

    async plan(
      actor: Actor,
      personId: string,
      input: CreateFollowUpInput,
      ctx: RequestContext,
    ): Promise<FollowUpView> {
      return uow(async (trx, outbox) => {
        if (!(await persons.lock(trx, actor.structureId, personId)))
          throw new NotFoundError('Person');
        const assigneeId = input.assigneeId ?? actor.id;
        await checkAssignee(trx, actor, assigneeId);
        const id = await planInTransaction(trx, outbox, actor, {
          personId,
          title: input.title,
          dueAt: input.dueAt,
          assigneeId,
        });
        await persons.touch(trx, actor.structureId, personId, clock.now());
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'follow_up.create',
          subjectType: 'person',
          subjectId: personId,
          ip: ctx.ip,
          details: { followUpId: id },
        });
        return (await find(trx, actor, id, clock.now()))!;
      });
    },

    /**
     * Open follow-ups unless a status is asked for. A worker lists their own or those of one
     * person; the team backlog (the whole structure, or a colleague's) is for managers. Lists show
     * who each follow-up is about, so they are audited like a person search.
     */
    async list(
      actor: Actor,
      q: ListFollowUpsQuery,
      ctx: RequestContext,
    ): Promise<Page<FollowUpView>> {
      const assigneeId = q.assignee === 'me' ? actor.id : q.assignee;
      if (actor.role !== 'manager' && assigneeId !== actor.id && !q.personId) {
        throw new ForbiddenError(
          "The team's follow-ups are for managers: list yours (assignee=me) or one person's (personId)",
        );
      }
      const now = clock.now();
      const before = q.overdue && (!q.dueBefore || q.dueBefore > now) ? now : q.dueBefore;
      const { items, total } = await followUpRepository.list(
        knex,
        actor.structureId,
        {
          assigneeId,
          status: q.status,
          personId: q.personId,
          dueBefore: before,
          dueFrom: q.overdue === false ? now : undefined,
          page: q.page,
          pageSize: q.pageSize,
        },
        now,
      );
      await auditRepository.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'follow_up.list',
        subjectType: 'person',
        ip: ctx.ip,
        details: { results: items.length, personIds: [...new Set(items.map((f) => f.personId))] },
      });
      return { items: items.map((f) => view(actor, f)), total, page: q.page, pageSize: q.pageSize };
    },

    /** Follow-ups by id, for a timeline page. */
    async byIds(db: Knex, actor: Actor, ids: string[], now: Date): Promise<FollowUpView[]> {
      const found = await followUpRepository.byIds(db, actor.structureId, ids, now);
      return found.map((f) => view(actor, f));
    },

    async update(
      actor: Actor,
      id: string,
      input: UpdateFollowUpInput,
      ctx: RequestContext,
    ): Promise<FollowUpView> {
      const write = () =>
        uow(async (trx, outbox) => {
          const row = await followUpRepository.lock(trx, actor.structureId, id);
          if (!row) throw new NotFoundError('Follow-up');
          if (!mayChange(actor, { assigneeId: row.assignee_id, createdBy: row.created_by }))
            throw new ForbiddenError(
              'Only its assignee, its author or a manager can change this follow-up',
            );
          const now = clock.now();
          if (input.version !== undefined && input.version !== row.version) {
            throw new StaleVersionError(
              'This follow-up was changed by someone else; reload it',
              await find(trx, actor, id, now),
            );
          }
          if (row.status !== 'open') {
            throw new InvalidTransitionError(`This follow-up is already ${row.status}`, {
              current: await find(trx, actor, id, now),
            });
          }
          if (input.assigneeId) await checkAssignee(trx, actor, input.assigneeId);

          const patch: Record<string, unknown> = {};
          if (input.title) patch.title = input.title;
          if (input.assigneeId) patch.assignee_id = input.assigneeId;
          if (input.dueAt) patch.due_at = input.dueAt;
          if (input.status) {
            patch.status = input.status;
            patch.completed_at = now;
          }
          await followUpRepository.update(trx, actor.structureId, id, patch);

          // The pending deadline moves with the follow-up, or goes when it is closed.
          if (input.status || input.dueAt || input.assigneeId) {
            await outbox.cancel('follow_up', id, [FOLLOW_UP_DUE]);
            if (!input.status) {
              await outbox.schedule({
                structureId: actor.structureId,
                kind: FOLLOW_UP_DUE,
                subjectType: 'follow_up',
                subjectId: id,
                dueAt: input.dueAt ?? new Date(row.due_at),
              });
            }
          }
          await persons.touch(trx, actor.structureId, row.person_id, now);
          await auditRepository.record(trx, {
            actor,
            structureId: actor.structureId,
            action: input.status ? `follow_up.${input.status}` : 'follow_up.update',
            subjectType: 'person',
            subjectId: row.person_id,
            ip: ctx.ip,
            details: { followUpId: id, fields: Object.keys(input) },
          });
          return (await find(trx, actor, id, now))!;
        });
      // The follow-up handed back with a 409 names its person.
      return auditConflictRead(knex, write, (current: FollowUp) => ({
        actor,
        structureId: actor.structureId,
        action: 'follow_up.read',
        subjectType: 'person',
        subjectId: current.personId,
        ip: ctx.ip,
        details: { followUpId: id, reason: 'conflict' },
      }));
    },
  };
}

export type FollowUpService = ReturnType<typeof createFollowUpService>;
