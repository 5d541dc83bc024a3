import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { assertDates, atLatestNow, notInFuture, notInPast } from '../../lib/date-rules';
import { NotFoundError } from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { FollowUpService } from '../follow-ups/follow-up-service';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import type { ReminderPlanner } from '../deadlines/reminder-planner';
import type { LockedPerson, PersonService } from '../persons/person-service';
import type { Contact, ContactRepository } from './contact-repository';
import type { CreateContactInput } from './contact-schemas';

export interface ContactServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: Pick<PersonService, 'lockInScope' | 'exists' | 'moveReferent'>;
  contacts: ContactRepository;
  followUps: Pick<FollowUpService, 'planInTransaction'>;
  clock: Clock;
  planner: Pick<ReminderPlanner, 'planNoContact'>;
  idempotency: Pick<IdempotencyService, 'once'>;
}

const DEFAULT_FOLLOW_UP_TITLE = 'Relancer la personne';

export function createContactService({
  knex,
  uow,
  persons,
  contacts,
  followUps,
  clock,
  planner,
  audit,
  idempotency,
}: ContactServiceDeps) {
  /**
   * Writes a contact on a file the caller has locked with its last activity moved on (the lock
   * given `activityAt`: one statement), in its transaction: the next follow-up, the no-contact
   * rules planned again when the contact moves the last one, the audit event.
   */
  async function logInTransaction(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    person: Pick<LockedPerson, 'id' | 'lastContactAt'>,
    input: CreateContactInput,
    ctx: RequestContext,
  ): Promise<Contact & { followUpId: string | null }> {
    const personId = person.id;
    const now = clock.now();
    const contact = await contacts.insert(
      trx,
      actor.structureId,
      {
        personId,
        authorId: actor.id,
        occurredAt: atLatestNow(input.occurredAt, now),
        channel: input.channel,
        outcome: input.outcome,
        summary: input.summary,
        privateNote: input.privateNote,
      },
      actor.id,
    );
    let followUpId: string | null = null;
    if (input.nextFollowUpAt) {
      followUpId = await followUps.planInTransaction(trx, outbox, actor, {
        personId,
        title: input.nextFollowUpTitle ?? DEFAULT_FOLLOW_UP_TITLE,
        dueAt: input.nextFollowUpAt,
        assigneeId: actor.id,
        contactId: contact.id,
      });
    }
    // The no-contact rules count from the last contact: planned again from this one when it is
    // the new last. An older contact, or one at the same moment, leaves their moments where they
    // are (a settings change re-plans them on its own): nothing to read or write.
    const previous = person.lastContactAt;
    if (!previous || contact.occurredAt.getTime() > previous.getTime())
      await planner.planNoContact(trx, outbox, actor.structureId, personId, {
        lastContactAt: contact.occurredAt,
      });
    await audit.record(trx, {
      actor,
      structureId: actor.structureId,
      action: 'contact.create',
      subjectType: 'person',
      subjectId: personId,
      ip: ctx.ip,
      details: { contactId: contact.id, followUpId },
    });
    return { ...contact, followUpId };
  }

  return {
    logInTransaction,

    /**
     * Logs an attempt, reached or not; a next follow-up date plans it in the same transaction.
     * Once per idempotency key: a repeat answers the contact and follow-up the first made.
     */
    async log(
      actor: Actor,
      personId: string,
      input: CreateContactInput,
      ctx: RequestContext,
    ): Promise<Contact & { followUpId: string | null }> {
      const now = clock.now();
      assertDates(
        notInFuture('occurredAt', input.occurredAt, now),
        notInPast('nextFollowUpAt', input.nextFollowUpAt, now, input.allowPast),
      );
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          action: 'contact.create',
          input: { personId, ...input },
          async create() {
            // The lock moves the file's last activity: held from here to the commit, it covers
            // the contact, its follow-up, the no-contact rules and the audit event.
            const person = await persons.lockInScope(trx, actor, personId, now);
            return logInTransaction(trx, outbox, actor, person, input, ctx);
          },
          keep: (c) => ({ contactId: c.id, followUpId: c.followUpId }),
          async replay({ contactId, followUpId }) {
            const [contact] = await contacts.byIds(trx, actor.structureId, [contactId], actor.id);
            if (!contact) throw new NotFoundError('Contact');
            return { ...contact, followUpId };
          },
        }),
      );
    },

    async list(
      actor: Actor,
      personId: string,
      page: number,
      pageSize: number,
      ctx: RequestContext,
    ): Promise<Page<Contact>> {
      if (!(await persons.exists(knex, actor.structureId, personId)))
        throw new NotFoundError('Person');
      const { items, total } = await contacts.listForPerson(
        knex,
        actor.structureId,
        personId,
        actor.id,
        page,
        pageSize,
      );
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'contact.list',
        subjectType: 'person',
        subjectId: personId,
        ip: ctx.ip,
      });
      return { items, total, page, pageSize };
    },
  };
}

export type ContactService = ReturnType<typeof createContactService>;
