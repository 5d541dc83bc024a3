import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import {
  AnonymisedError,
  NotFoundError,
  StaleVersionError,
  ValidationError,
} from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import type { CappedPage } from '../../lib/validate';
import type { Clock } from '../../lib/clock';
import { assertDates, birthYearInRange } from '../../lib/date-rules';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { ReminderPlanner } from '../deadlines/reminder-planner';
import type { UserService } from '../users/user-service';
import type { DistrictService } from '../districts/district-service';
import type { IdempotencyService, Repeat } from '../idempotency/idempotency-service';
import type { Person, PersonRepository, PersonWrite } from './person-repository';

export type { LockedPerson, Person } from './person-repository';
import type { CreatePersonInput, SearchPersonsQuery, UpdatePersonInput } from './person-schemas';

export interface PersonServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: PersonRepository;
  users: Pick<UserService, 'findActiveStaff' | 'listActiveStaff'>;
  clock: Clock;
  planner: Pick<ReminderPlanner, 'planNoContact' | 'planNoContactMany'>;
  districts: Pick<DistrictService, 'checkChoice'>;
  idempotency: Pick<IdempotencyService, 'once' | 'repeated'>;
  /**
   * Moves the file's open follow-ups held by its former référent to the new one, in the update's
   * transaction (the follow-up service's rule; built after this service, called only later).
   */
  moveReferentFollowUps(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    personId: string,
    fromId: string,
    toId: string,
    ctx: RequestContext,
  ): Promise<string[]>;
}

/**
 * The one rule of an anonymised file: it takes no new write, whoever writes and whatever the
 * write (a contact, a follow-up, a consent, a referral or its move, a right, a report linked):
 * retention does not look at it again, so anything written afterwards would be kept for ever.
 * Every write on a file locks it first (`lockInScope`, `lockForWrite`), and the lock applies it.
 */
function writable<T extends { anonymisedAt: Date | null }>(file: T): T {
  if (file.anonymisedAt)
    throw new AnonymisedError('This person file was anonymised and can no longer change');
  return file;
}

/** Person files: create, read, search, update with optimistic concurrency; every access audited. */
export function createPersonService({
  knex,
  uow,
  persons,
  users,
  clock,
  planner,
  districts,
  audit,
  idempotency,
  moveReferentFollowUps,
}: PersonServiceDeps) {
  /**
   * The referent and district of a write are the structure's (a district chosen anew also in use;
   * `currentDistrictId`, the one the file is in, stays choosable archived), or a 400 naming the
   * field.
   */
  async function checkReferences(
    db: Knex | Knex.Transaction,
    actor: Actor,
    w: PersonWrite,
    currentDistrictId: string | null = null,
  ) {
    if (w.referentId) {
      if (!(await users.findActiveStaff(db, actor.structureId, w.referentId))) {
        throw new ValidationError('Invalid body: referentId: unknown worker', [
          { field: 'referentId', message: 'is not a worker of your structure' },
        ]);
      }
    }
    if (w.districtId)
      await districts.checkChoice(db, actor.structureId, w.districtId, currentDistrictId);
  }

  /** Reads a person in the actor's structure or answers 404, as for a person that does not exist. */
  async function getInScope(
    db: Knex | Knex.Transaction,
    actor: Actor,
    id: string,
  ): Promise<Person> {
    const p = await persons.findById(db, actor.structureId, id);
    if (!p) throw new NotFoundError('Person');
    return p;
  }

  /**
   * Answers 404 unless the person is in the actor's structure, reading nothing else of it.
   * Among the reads of one answer (`audit.together`), a person an earlier read found in scope
   * is not read again.
   */
  async function assertInScope(
    db: Knex | Knex.Transaction,
    actor: Actor,
    id: string,
    ctx?: RequestContext,
  ) {
    if (ctx?.personsInScope?.has(id)) return;
    if (!(await persons.exists(db, actor.structureId, id))) throw new NotFoundError('Person');
    ctx?.personsInScope?.add(id);
  }

  /** Writes a new file, its no-contact rules and its audit event, in the caller's transaction. */
  async function createIn(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    input: CreatePersonInput,
    ctx: RequestContext,
  ): Promise<Person> {
    const write: PersonWrite = { ...input, referentId: input.referentId ?? actor.id };
    await checkReferences(trx, actor, write);
    const createdAt = clock.now();
    const id = await persons.insert(trx, actor.structureId, actor.id, write, createdAt);
    // No contact yet: the no-contact rules count from the file's creation.
    await planner.planNoContact(trx, outbox, actor.structureId, id, { createdAt });
    await audit.record(trx, {
      actor,
      structureId: actor.structureId,
      action: 'person.create',
      subjectType: 'person',
      subjectId: id,
      ip: ctx.ip,
    });
    return getInScope(trx, actor, id);
  }

  /** How a creation of a file is repeated: the file the first made, read again. */
  const repeatOf = (
    db: Knex | Knex.Transaction,
    actor: Actor,
    input: CreatePersonInput,
  ): Repeat<Person, { personId: string }> => ({
    action: 'person.create',
    input,
    replay: ({ personId }) => getInScope(db, actor, personId),
  });

  /** A person file was shown to the actor: on its own page, or handed back with a 409. */
  const readEvent = (actor: Actor, id: string, ctx: RequestContext, reason?: 'conflict') => ({
    actor,
    structureId: actor.structureId,
    action: 'person.read',
    subjectType: 'person',
    subjectId: id,
    ip: ctx.ip,
    ...(reason ? { details: { reason } } : {}),
  });

  /**
   * A file's change with the version read; with `moveFollowUps`, a new référent also takes the
   * open follow-ups of the file held by the former one, in the same transaction.
   */
  async function updateFile(
    actor: Actor,
    id: string,
    input: UpdatePersonInput,
    ctx: RequestContext,
    moveFollowUps: boolean,
  ): Promise<{ person: Person; movedFollowUpIds: string[] }> {
    const { version, closedReason, ...fields } = input;
    assertDates(birthYearInRange('birthYear', fields.birthYear, clock.now()));
    const stale = (current: Person) =>
      new StaleVersionError(
        'This person was changed by someone else; reload and apply your changes again',
        current,
      );
    const write = () =>
      uow(async (trx, outbox) => {
        // Lock before reading: of two editors of one version, the second waits, then sees the
        // winner's row and gets it back in the 409 (read unlocked, it would get the old one).
        if (!(await persons.lock(trx, actor.structureId, id))) throw new NotFoundError('Person');
        const current = await getInScope(trx, actor, id);
        if (current.version !== version) throw stale(current);
        writable(current);
        // Only a reference that changes is checked: a file whose référent has left keeps them
        // through an edit of anything else (the form sends every field back).
        await checkReferences(
          trx,
          actor,
          {
            referentId: fields.referentId === current.referentId ? undefined : fields.referentId,
            districtId: fields.districtId === current.districtId ? undefined : fields.districtId,
          },
          current.districtId,
        );
        const merged = { ...current, ...fields };
        if (!merged.alias && !merged.firstName && !merged.lastName) {
          throw new ValidationError('Invalid body: alias: an alias or a name is required', [
            { field: 'alias', message: 'an alias or a name is required' },
          ]);
        }
        // Closing is a reason given; reopening is clearing it.
        const closing =
          closedReason === undefined
            ? undefined
            : { reason: closedReason, at: closedReason ? clock.now() : null };
        const ok = await persons.update(
          trx,
          actor.structureId,
          id,
          version,
          fields,
          clock.now(),
          closing,
        );
        if (!ok) throw stale(await getInScope(trx, actor, id));
        // Reopened, reminders resumed, or an open file given a new référent: the no-contact
        // rules start again from the last contact; a moment that passed while closed, paused
        // or without an active référent (skipped) is not played again but counted from now.
        const open = closing ? !closing.reason : !current.closedAt;
        if (
          (closedReason !== undefined && !closedReason && current.closedAt) ||
          (fields.pauseReminders === false && current.pauseReminders) ||
          (open && !!fields.referentId && fields.referentId !== current.referentId)
        )
          await planner.planNoContact(trx, outbox, actor.structureId, id, {
            replannedAt: clock.now(),
          });
        const movedFollowUpIds =
          moveFollowUps &&
          fields.referentId &&
          current.referentId &&
          fields.referentId !== current.referentId
            ? await moveReferentFollowUps(
                trx,
                outbox,
                actor,
                id,
                current.referentId,
                fields.referentId,
                ctx,
              )
            : [];
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'person.update',
          subjectType: 'person',
          subjectId: id,
          ip: ctx.ip,
          details: { fields: Object.keys(input).filter((k) => k !== 'version') },
        });
        return { person: await getInScope(trx, actor, id), movedFollowUpIds };
      });
    return audit.conflictRead(knex, write, () => readEvent(actor, id, ctx, 'conflict'));
  }

  return {
    getInScope,
    assertInScope,

    /**
     * The references of a file about to be written (referent, district) are of the actor's
     * structure, or a 400 naming the field: for a page that checks before it asks more.
     */
    checkReferences: (actor: Actor, w: PersonWrite) => checkReferences(knex, actor, w),

    /**
     * Locks the person's row for the caller's transaction (the first lock of every write on a
     * file) or answers 404 outside the actor's structure, and 409 `anonymised` for an anonymised
     * file. With `activityAt`, the lock also moves the file's last activity (as `touch`), in the
     * same statement.
     */
    async lockInScope(trx: Knex.Transaction, actor: Actor, id: string, activityAt?: Date) {
      const locked = await persons.lock(trx, actor.structureId, id, activityAt);
      if (!locked) throw new NotFoundError('Person');
      return writable(locked);
    },

    /**
     * As lockInScope, in the given structure and null outside it, for writes whose structure
     * comes from their subject (a partner's move) or that say "not found" their own way (a
     * report linked: a 400 naming the field).
     */
    async lockForWrite(trx: Knex.Transaction, structureId: string, id: string, activityAt?: Date) {
      const locked = await persons.lock(trx, structureId, id, activityAt);
      return locked && writable(locked);
    },

    /**
     * Locks a person's row for the system's own rules (deadlines, moves the system makes), which
     * read `anonymisedAt` and decide for themselves; null outside the structure. A user's write
     * never uses it: it goes through lockInScope or lockForWrite. With `activityAt`, as
     * lockInScope.
     */
    lock: (trx: Knex.Transaction, structureId: string, id: string, activityAt?: Date) =>
      persons.lock(trx, structureId, id, activityAt),

    exists: (db: Knex | Knex.Transaction, structureId: string, id: string) =>
      persons.exists(db, structureId, id),

    /** A person of the structure, for the system's rules (deadlines); null outside it. */
    find: (db: Knex | Knex.Transaction, structureId: string, id: string) =>
      persons.findById(db, structureId, id),

    /**
     * Whether several persons of the structure still get reminders (anonymised, closed, paused),
     * for a batch of deadlines; those outside it are absent.
     */
    reminderStates: (db: Knex | Knex.Transaction, structureId: string, ids: string[]) =>
      persons.reminderStates(db, structureId, ids),

    /** Who is still référent of an active file, disabled or no longer staff included. */
    activeFileReferents: (db: Knex | Knex.Transaction, structureId: string) =>
      persons.activeFileReferents(db, structureId),

    /** How many active files a user is référent of, disabled or no longer staff included. */
    activeFileCount: (db: Knex | Knex.Transaction, structureId: string, referentId: string) =>
      persons.countActiveFilesOf(db, structureId, referentId),

    /**
     * Every file whose référent is `from` passes to `to` (a leaver's work moved): the open ones
     * and the closed ones (reopened, they have a référent at work), never an anonymised one
     * (which takes no write). Their ids, and those of the open files among them. The open files'
     * no-contact rules are planned again, as a reopening plans them: a rule that fell due while
     * the file had no active référent was skipped, and is counted from now, so the new référent
     * gets its "relancer" rather than nobody ever.
     */
    async moveReferent(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      structureId: string,
      from: string,
      to: string,
    ): Promise<{ ids: string[]; activeIds: string[] }> {
      const moved = await persons.moveReferent(trx, structureId, from, to);
      const activeIds = moved.filter((file) => file.active).map((file) => file.id);
      await planner.planNoContactMany(trx, outbox, structureId, activeIds, {
        replannedAt: clock.now(),
      });
      return { ids: moved.map((file) => file.id), activeIds };
    },

    /** Something happened on the file at `at`: its last activity moves on. */
    touch: (trx: Knex.Transaction, structureId: string, id: string, at: Date) =>
      persons.touch(trx, structureId, id, at),

    /** A new file; once per idempotency key: a repeat answers the file the first made. */
    async create(actor: Actor, input: CreatePersonInput, ctx: RequestContext): Promise<Person> {
      assertDates(birthYearInRange('birthYear', input.birthYear, clock.now()));
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          ...repeatOf(trx, actor, input),
          create: () => createIn(trx, outbox, actor, input, ctx),
          keep: (p) => ({ personId: p.id }),
        }),
      );
    },

    /**
     * The file this request's idempotency key already made (a repeat of the intake form), or
     * null: the intake asks before its "Déjà connu·e ?" check, which would find that file.
     */
    createdBefore: (actor: Actor, input: CreatePersonInput, ctx: RequestContext) =>
      idempotency.repeated(knex, actor, ctx, repeatOf(knex, actor, input)),

    /** Creates a file inside the caller's transaction (a report triaged into a new person). */
    createInTransaction: createIn,

    async get(actor: Actor, id: string, ctx: RequestContext): Promise<Person> {
      const p = await getInScope(knex, actor, id);
      ctx.personsInScope?.add(id);
      await audit.record(knex, readEvent(actor, id, ctx), ctx);
      return p;
    },

    /** Changes a file with the version read (409 with the file as it is now if stale). */
    async update(
      actor: Actor,
      id: string,
      input: UpdatePersonInput,
      ctx: RequestContext,
    ): Promise<Person> {
      return (await updateFile(actor, id, input, ctx, false)).person;
    },

    /**
     * The edit page's change, with its box ticked: when the référent changes, the file's open
     * follow-ups held by the former one move to the new one in the same transaction.
     */
    updateMovingFollowUps: (
      actor: Actor,
      id: string,
      input: UpdatePersonInput,
      ctx: RequestContext,
    ) => updateFile(actor, id, input, ctx, true),

    /** Who may be a person's referent: the structure's active workers and managers. */
    async listReferents(actor: Actor): Promise<{ id: string; name: string; role: string }[]> {
      return users.listActiveStaff(actor.structureId);
    },

    async search(
      actor: Actor,
      q: SearchPersonsQuery,
      ctx: RequestContext,
    ): Promise<CappedPage<Person>> {
      const { items, total, totalCapped } = await persons.search(knex, actor.structureId, {
        q: q.q || undefined,
        status: q.status,
        districtId: q.district,
        referentId: q.referentId === 'me' ? actor.id : q.referentId,
        right: q.right,
        rightStatus: q.rightStatus,
        reason: q.reason,
        page: q.page,
        pageSize: q.pageSize,
      });
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'person.search',
        subjectType: 'person',
        ip: ctx.ip,
        details: { results: items.length, ids: items.map((p) => p.id) },
      });
      return { items, total, totalCapped, page: q.page, pageSize: q.pageSize };
    },
  };
}

export type PersonService = ReturnType<typeof createPersonService>;
