import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import type { Cipher } from '../../lib/crypto';
import { assertDates, notInPast } from '../../lib/date-rules';
import {
  BusinessRuleError,
  checkVersion,
  ConflictError,
  ForbiddenError,
  InvalidTransitionError,
  NotFoundError,
} from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import type { NotificationService } from '../notifications/notification-service';
import type { ReminderPlanner } from '../deadlines/reminder-planner';
import { NOTIFY_FOLLOW_UP_ESCALATED, NOTIFY_FOLLOW_UP_OVERDUE } from '../deadlines/rule-kinds';
import type { PersonService } from '../persons/person-service';
import type { UserService } from '../users/user-service';
import { type FollowUpRepository, type FollowUp, type FollowUpPatch } from './follow-up-repository';
import {
  FOLLOW_UP_DUE,
  FOLLOW_UP_REASSIGNED,
  REFERENT_FILES_REASSIGNED,
  type CreateFollowUpInput,
  type ListFollowUpsQuery,
  type ReassignFollowUpsInput,
  type UpdateFollowUpInput,
} from './follow-up-schemas';

/** The notices about a follow-up's due moment, which go when it moves (see replan). */
const WITHDRAWN_ON_REPLAN = [FOLLOW_UP_DUE, NOTIFY_FOLLOW_UP_OVERDUE, NOTIFY_FOLLOW_UP_ESCALATED];

export interface FollowUpServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: Pick<
    PersonService,
    | 'lockInScope'
    | 'lockForWrite'
    | 'touch'
    | 'moveReferent'
    | 'activeFileReferents'
    | 'activeFileCount'
  >;
  users: Pick<UserService, 'findActiveStaff' | 'findAnyInStructure'>;
  notifications: Pick<NotificationService, 'notifyInTransaction' | 'withdrawInTransaction'>;
  cipher: Pick<Cipher, 'encryptOptional' | 'decryptOptional'>;
  clock: Clock;
  planner: Pick<ReminderPlanner, 'planFollowUp' | 'cancelFollowUp'>;
  followUps: FollowUpRepository;
  idempotency: Pick<IdempotencyService, 'once'>;
}

/** What a reassignment moved. */
interface ReassignResult {
  toAssigneeId: string;
  followUpIds: string[];
  /** Files whose référent changed (referents: true): open or closed, never anonymised. */
  personIds: string[];
  /** The open files among them (not closed): those the new référent follows now. */
  activePersonIds: string[];
}

/**
 * The files a new référent was given, as their notice says them: how many, and how many of them
 * are open when some are closed ("3 dossiers, dont 2 actifs").
 */
function filesGiven(total: number, active: number): string {
  const closed = active === 0 ? ' clos' : '';
  if (total === 1) return `d’un dossier${closed}, confié`;
  const open =
    active === 0 || active === total ? '' : `, dont ${active} actif${active > 1 ? 's' : ''}`;
  return `de ${total} dossiers${closed}${open}, confiés`;
}

/** A follow-up as the service hands it out. */
export interface FollowUpView extends Omit<FollowUp, 'completionNoteEnc'> {
  completionNote: string | null;
  /** Whether this caller may complete, reschedule or reassign it (open, and theirs or a manager's). */
  canChange: boolean;
}

interface PlanInput {
  personId: string;
  title: string;
  dueAt: Date;
  assigneeId: string;
  contactId?: string | null;
  /** The deadline of a rule that planned it (no contact). */
  originDeadlineId?: string | null;
  /** That rule's moment, unique per person: a second run, or a copy of the rule, plans nothing. */
  originDueAt?: Date | null;
}

export function createFollowUpService({
  knex,
  uow,
  persons,
  users,
  notifications,
  cipher,
  clock,
  planner,
  followUps,
  audit,
  idempotency,
}: FollowUpServiceDeps) {
  /** Plans a follow-up inside the caller's transaction, with its due moment in the outbox. */
  async function planInTransaction(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    p: PlanInput,
  ): Promise<string> {
    const id = await followUps.insert(trx, actor.structureId, {
      ...p,
      createdBy: actor.id,
    });
    await planner.planFollowUp(trx, outbox, actor.structureId, id, p.dueAt);
    return id;
  }

  /** Workers change their own follow-ups (assigned or planned by them); managers any of the structure. */
  function mayChange(actor: Actor, f: { assigneeId: string; createdBy: string | null }) {
    return actor.role === 'manager' || f.assigneeId === actor.id || f.createdBy === actor.id;
  }

  /** What the caller gets: the follow-up and whether update() would accept a change from them. */
  const view = (actor: Actor, { completionNoteEnc, ...f }: FollowUp): FollowUpView => ({
    ...f,
    completionNote: cipher.decryptOptional(completionNoteEnc),
    canChange: f.status === 'open' && mayChange(actor, f),
  });

  async function find(db: Knex | Knex.Transaction, actor: Actor, id: string, now: Date) {
    const f = await followUps.findById(db, actor.structureId, id, now);
    return f ? view(actor, f) : null;
  }

  /**
   * The pending due moment moves with a follow-up, and the notices of the old one go: its "Suivi
   * à faire", its overdue reminder and its escalation to the managers (whose digest counts it).
   * Their deadlines, planned again, bring them back where they still apply: to the assignee and
   * the managers of now, for a moment still past.
   */
  async function replan(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    id: string,
    dueAt: Date | null,
  ) {
    await planner.cancelFollowUp(outbox, id);
    await notifications.withdrawInTransaction(trx, WITHDRAWN_ON_REPLAN, 'follow_up', id);
    if (dueAt) await planner.planFollowUp(trx, outbox, actor.structureId, id, dueAt);
  }

  /**
   * A user work may be handed to: an active worker or manager of the caller's structure, else
   * 422 `assignee_unavailable` naming the body's field (planning, a PATCH or a bulk move alike).
   */
  async function activeStaff(
    trx: Knex.Transaction,
    actor: Actor,
    id: string,
    field: 'assigneeId' | 'toAssigneeId',
  ) {
    const u = await users.findActiveStaff(trx, actor.structureId, id);
    if (!u) {
      throw new BusinessRuleError(
        'assignee_unavailable',
        `${field} is not an active worker or manager of your structure`,
        [{ field, message: 'is not an active worker or manager of your structure' }],
      );
    }
    return u;
  }

  /**
   * Moves locked open follow-ups to `toId`: each keeps its due moment (its deadline is planned
   * again for the new assignee), and the move is audited and told (`recordMove`).
   */
  async function moveInTransaction(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    rows: { id: string; personId: string; assigneeId: string; dueAt: Date }[],
    toId: string,
    ctx: RequestContext,
  ): Promise<string[]> {
    const moving = rows.filter((r) => r.assigneeId !== toId);
    if (moving.length === 0) return [];
    const ids = moving.map((r) => r.id);
    await followUps.reassign(trx, actor.structureId, ids, toId);
    for (const r of moving) await replan(trx, outbox, actor, r.id, new Date(r.dueAt));
    await recordMove(trx, actor, moving, toId, ctx, { notify: true });
    return ids;
  }

  /**
   * What every move of follow-ups to `toId` leaves, once their rows hold the new assignee: each
   * person's move is audited (`follow_up.reassign`), and the new assignee is told in the app
   * (`notify`: not of a follow-up closed in the same change); the title, which an email may
   * carry, never names the persons. One follow-up moved: the body names its person, and the
   * notification is about that follow-up, so retention finds and clears it with the file.
   * Several: it is about the manager who moved them, which no file leads retention to, so it
   * names nobody and counts them; "Mes actions" lists who they are.
   */
  async function recordMove(
    trx: Knex.Transaction,
    actor: Actor,
    moving: { id: string; personId: string; assigneeId: string }[],
    toId: string,
    ctx: RequestContext,
    { notify }: { notify: boolean },
  ): Promise<void> {
    const ids = moving.map((r) => r.id);
    const byPerson = new Map<string, typeof moving>();
    for (const r of moving) byPerson.set(r.personId, [...(byPerson.get(r.personId) ?? []), r]);
    for (const [personId, list] of byPerson) {
      await audit.record(trx, {
        actor,
        structureId: actor.structureId,
        action: 'follow_up.reassign',
        subjectType: 'person',
        subjectId: personId,
        ip: ctx.ip,
        details: {
          followUpIds: list.map((r) => r.id),
          from: [...new Set(list.map((r) => r.assigneeId))],
          to: toId,
        },
      });
    }
    if (!notify) return;
    const now = clock.now();
    const moved = await followUps.byIds(trx, actor.structureId, ids, now);
    const personCount = new Set(moved.map((f) => f.personId)).size;
    await notifications.notifyInTransaction(
      trx,
      moved.length === 1
        ? {
            structureId: actor.structureId,
            recipientId: toId,
            kind: FOLLOW_UP_REASSIGNED,
            subjectType: 'follow_up',
            subjectId: moved[0].id,
            dueMoment: now,
            title: `Suivi confié par ${actor.name} : ${moved[0].title}`,
            body: `Pour : ${moved[0].personLabel || '—'}`,
            link: `/personnes/${moved[0].personId}`,
          }
        : {
            structureId: actor.structureId,
            recipientId: toId,
            kind: FOLLOW_UP_REASSIGNED,
            subjectType: 'user',
            subjectId: actor.id,
            dueMoment: now,
            title: `${moved.length} suivis vous ont été confiés par ${actor.name}`,
            body: `Pour ${personCount} ${personCount > 1 ? 'personnes' : 'personne'} : retrouvez-les dans « Mes actions ».`,
            // "Mes actions" of every staff role: a manager's `/` is the team's backlog.
            link: '/mes-actions',
          },
    );
  }

  return {
    planInTransaction,

    /**
     * Whether a follow-up of the structure is still open: a rule that would plan another for the
     * same task asks first (a referral's outcome, while its loop-closing follow-up waits).
     */
    async isOpen(db: Knex | Knex.Transaction, structureId: string, id: string): Promise<boolean> {
      const f = await followUps.findById(db, structureId, id, clock.now());
      return f?.status === 'open';
    },

    /**
     * A manager hands open follow-ups to someone else: those selected, or all of a colleague's
     * (a leaver, who may already be disabled), and with referents the files they are référent of.
     */
    async reassign(
      actor: Actor,
      input: ReassignFollowUpsInput,
      ctx: RequestContext,
    ): Promise<ReassignResult> {
      return uow(async (trx, outbox) => {
        const to = await activeStaff(trx, actor, input.toAssigneeId, 'toAssigneeId');
        let rows;
        let from: { id: string; name: string } | null = null;
        if (input.ids) {
          const ids = [...new Set(input.ids)];
          rows = await followUps.lockOpen(trx, actor.structureId, { ids });
          if (rows.length !== ids.length) throw new NotFoundError('Follow-up');
          const closed = rows.filter((r) => r.status !== 'open').map((r) => r.id);
          if (closed.length > 0)
            throw new ConflictError('Some of these follow-ups are no longer open', { ids: closed });
        } else {
          from = await users.findAnyInStructure(trx, actor.structureId, input.fromAssigneeId!);
          if (!from) throw new NotFoundError('User');
          rows = await followUps.lockOpen(trx, actor.structureId, { assigneeId: from.id });
        }
        const followUpIds = await moveInTransaction(trx, outbox, actor, rows, to.id, ctx);
        let personIds: string[] = [];
        let activePersonIds: string[] = [];
        // The schema allows referents only with fromAssigneeId; one handed to themselves moves
        // nothing.
        if (input.referents && from && from.id !== to.id) {
          ({ ids: personIds, activeIds: activePersonIds } = await persons.moveReferent(
            trx,
            outbox,
            actor.structureId,
            from.id,
            to.id,
          ));
          if (personIds.length > 0)
            // A count, never the persons: the body outlives an anonymisation, which finds
            // notifications by their subject (this one's is the leaver).
            await notifications.notifyInTransaction(trx, {
              structureId: actor.structureId,
              recipientId: to.id,
              kind: REFERENT_FILES_REASSIGNED,
              subjectType: 'user',
              subjectId: from.id,
              dueMoment: clock.now(),
              title: `Vous êtes désormais référent·e ${filesGiven(personIds.length, activePersonIds.length)} par ${actor.name}`,
              body: `${personIds.length === 1 ? 'Dossier' : 'Dossiers'} dont ${from.name} était référent·e.`,
              link: '/personnes',
            });
          for (const personId of personIds) {
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'person.update',
              subjectType: 'person',
              subjectId: personId,
              ip: ctx.ip,
              details: { fields: ['referentId'], from: from.id, to: to.id },
            });
          }
        }
        return { toAssigneeId: to.id, followUpIds, personIds, activePersonIds };
      });
    },

    /**
     * Whose work a manager may move: who holds open follow-ups or is still référent of an active
     * file, disabled or no longer staff included (a leaver holding files only is one too: their
     * files would get no no-contact reminder, having no active référent).
     */
    async holders(actor: Actor): Promise<{ id: string; name: string }[]> {
      const [holding, referents] = await Promise.all([
        followUps.holders(knex, actor.structureId),
        persons.activeFileReferents(knex, actor.structureId),
      ]);
      return [...new Map([...holding, ...referents].map((u) => [u.id, u])).values()];
    },

    /**
     * What a user holds that the move of a leaver's work ("Travail de") hands on: their open
     * follow-ups and the active files they are référent of, whatever their role or state now.
     */
    async heldBy(
      db: Knex | Knex.Transaction,
      structureId: string,
      userId: string,
    ): Promise<{ followUps: number; files: number }> {
      return {
        followUps: await followUps.countOpenOf(db, structureId, userId),
        files: await persons.activeFileCount(db, structureId, userId),
      };
    },

    /**
     * A person's référent changed (the person service's update, in its transaction, the file
     * locked): their open follow-ups of the file held by the former one move to the new one, who
     * must be active staff, as every move of follow-ups; the moved ids.
     */
    async moveWithReferentInTransaction(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      actor: Actor,
      personId: string,
      fromId: string,
      toId: string,
      ctx: RequestContext,
    ): Promise<string[]> {
      const to = await activeStaff(trx, actor, toId, 'toAssigneeId');
      const rows = await followUps.lockOpen(trx, actor.structureId, {
        assigneeId: fromId,
        personId,
      });
      return moveInTransaction(trx, outbox, actor, rows, to.id, ctx);
    },

    /** Plans a follow-up; once per idempotency key: a repeat answers the one the first planned. */
    async plan(
      actor: Actor,
      personId: string,
      input: CreateFollowUpInput,
      ctx: RequestContext,
    ): Promise<FollowUpView> {
      assertDates(notInPast('dueAt', input.dueAt, clock.now(), input.allowPast));
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          action: 'follow_up.create',
          input: { personId, ...input },
          async create() {
            await persons.lockInScope(trx, actor, personId);
            const assigneeId = input.assigneeId ?? actor.id;
            await activeStaff(trx, actor, assigneeId, 'assigneeId');
            const id = await planInTransaction(trx, outbox, actor, {
              personId,
              title: input.title,
              dueAt: input.dueAt,
              assigneeId,
            });
            await persons.touch(trx, actor.structureId, personId, clock.now());
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'follow_up.create',
              subjectType: 'person',
              subjectId: personId,
              ip: ctx.ip,
              details: { followUpId: id },
            });
            return (await find(trx, actor, id, clock.now()))!;
          },
          ...replayById('followUpId', 'Follow-up', (id) => find(trx, actor, id, clock.now())),
        }),
      );
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
      const { items, total } = await followUps.list(
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
      await audit.record(
        knex,
        {
          actor,
          structureId: actor.structureId,
          action: 'follow_up.list',
          subjectType: 'person',
          ip: ctx.ip,
          details: {
            results: items.length,
            // The persons, as a person search lists them (`LIST_READ_ACTIONS`).
            ids: [...new Set(items.map((f) => f.personId))],
          },
        },
        ctx,
      );
      return { items: items.map((f) => view(actor, f)), total, page: q.page, pageSize: q.pageSize };
    },

    /** Follow-ups by id, for a timeline page. */
    async byIds(db: Knex, actor: Actor, ids: string[], now: Date): Promise<FollowUpView[]> {
      const found = await followUps.byIds(db, actor.structureId, ids, now);
      return found.map((f) => view(actor, f));
    },

    async update(
      actor: Actor,
      id: string,
      input: UpdateFollowUpInput,
      ctx: RequestContext,
    ): Promise<FollowUpView> {
      assertDates(notInPast('dueAt', input.dueAt, clock.now(), input.allowPast));
      const write = () =>
        uow(async (trx, outbox) => {
          const row = await followUps.lock(trx, actor.structureId, id);
          if (!row) throw new NotFoundError('Follow-up');
          if (!mayChange(actor, row))
            throw new ForbiddenError(
              'Only its assignee, its author or a manager can change this follow-up',
            );
          // Its file next (a follow-up's lock, then its person's, as the touch below takes
          // them): an anonymised file's follow-ups are neither reopened nor written on.
          await persons.lockForWrite(trx, actor.structureId, row.personId);
          const now = clock.now();
          await checkVersion(
            input.version,
            row.version,
            'This follow-up was changed by someone else; reload it',
            () => find(trx, actor, id, now),
          );
          if (input.status === 'open') {
            // Undo: a completed or cancelled follow-up is open again, due when it was.
            if (row.status === 'open')
              throw new InvalidTransitionError('This follow-up is already open', {
                current: await find(trx, actor, id, now),
              });
            await followUps.update(trx, actor.structureId, id, {
              status: 'open',
              completedAt: null,
              completionNoteEnc: null,
            });
            await replan(trx, outbox, actor, id, row.dueAt);
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'follow_up.reopen',
              subjectType: 'person',
              subjectId: row.personId,
              ip: ctx.ip,
              details: { followUpId: id, was: row.status },
            });
            return (await find(trx, actor, id, now))!;
          }
          if (row.status !== 'open') {
            throw new InvalidTransitionError(`This follow-up is already ${row.status}`, {
              current: await find(trx, actor, id, now),
            });
          }
          // Handed to someone else: the same check, audit and notice as a bulk move. Only a real
          // move is checked: its own assignee sent back (who may have left) is no move, as a
          // person's update checks only a référent that changes.
          const to =
            input.assigneeId && input.assigneeId !== row.assigneeId
              ? await activeStaff(trx, actor, input.assigneeId, 'assigneeId')
              : null;
          const moving = to !== null;

          const patch: FollowUpPatch = {};
          if (input.title) patch.title = input.title;
          if (moving) patch.assigneeId = to.id;
          if (input.dueAt) patch.dueAt = input.dueAt;
          if (input.status) {
            patch.status = input.status;
            patch.completedAt = now;
            if (input.note) patch.completionNoteEnc = cipher.encryptOptional(input.note);
          }
          // Handed to whoever holds it already, and nothing else: nothing to write.
          if (Object.keys(patch).length === 0) return (await find(trx, actor, id, now))!;
          await followUps.update(trx, actor.structureId, id, patch);

          // The pending deadline moves with the follow-up, or goes when it is closed.
          // A rescheduled or reassigned one loses its "Suivi à faire": the new deadline brings
          // the new one, to its assignee, at its moment.
          if (input.status) await planner.cancelFollowUp(outbox, id);
          else if (input.dueAt || moving)
            await replan(trx, outbox, actor, id, input.dueAt ?? row.dueAt);
          await persons.touch(trx, actor.structureId, row.personId, now);
          const changed = Object.keys(input).filter(
            (k) => k !== 'assigneeId' && k !== 'version' && k !== 'allowPast',
          );
          if (changed.length > 0)
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: input.status ? `follow_up.${input.status}` : 'follow_up.update',
              subjectType: 'person',
              subjectId: row.personId,
              ip: ctx.ip,
              details: { followUpId: id, fields: Object.keys(input) },
            });
          if (moving) await recordMove(trx, actor, [row], to.id, ctx, { notify: !input.status });
          return (await find(trx, actor, id, now))!;
        });
      // The follow-up handed back with a 409 names its person.
      return audit.conflictRead(knex, write, (current: FollowUp) => ({
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
