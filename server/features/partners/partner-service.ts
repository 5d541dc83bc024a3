import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, ConflictError, NotFoundError } from '../../lib/errors';
import { auditTrail, type RequestContext } from '../audit/audit-trail';
import type { UnitOfWork } from '../deadlines/outbox';
import type { NotificationService } from '../notifications/notification-service';
import {
  changeProblem,
  PARTNER_EMAIL_CHANGED,
  PARTNER_EMAIL_CONFIRM,
  partnerEmailChangeRepository,
  type EmailChangeProblem,
} from './partner-email-changes';
import { partnerRepository, type Partner } from './partner-repository';
import type {
  CreatePartnerInput,
  ListPartnersQuery,
  ServiceInput,
  UpdatePartnerInput,
} from './partner-schemas';

/**
 * The partner directory: read by the staff of every structure, maintained by the administrators
 * of the structure that owns each partner. A partner of another structure is not found (404), as
 * an unknown one is, for every change and for the edit pages.
 */
export interface PartnerDirectoryDeps {
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  /** LINK_SECRET: email confirmation tokens are derived from it. */
  linkSecret: string;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  /** The enabled managers of a structure, told when a partner's address changes. */
  managerIds(db: Knex.Transaction, structureId: string): Promise<string[]>;
}

export function createPartnerDirectory(deps: PartnerDirectoryDeps) {
  const { knex, uow, clock, linkSecret, notifications } = deps;
  return {
    /** Inside the caller's transaction: a partner of the directory as of `now`, or null. */
    findById: (db: Knex | Knex.Transaction, id: string, now: Date) =>
      partnerRepository.findById(db, id, now),
    exists: (db: Knex | Knex.Transaction, id: string) => partnerRepository.exists(db, id),
    nameOf: (db: Knex | Knex.Transaction, id: string) => partnerRepository.nameOf(db, id),
    /** The partner's enabled users, who are told of a new referral. */
    activeStaffIds: (db: Knex | Knex.Transaction, id: string) =>
      partnerRepository.activeStaffIds(db, id),
    /** Whether the partner belongs to the structure (its admins create the partner's users). */
    ownedBy: async (db: Knex | Knex.Transaction, structureId: string, id: string) =>
      (await partnerRepository.ownedIds(db, structureId)).includes(id),

    async list(q: ListPartnersQuery) {
      const items = await partnerRepository.list(knex, clock.now(), q);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    async get(id: string): Promise<Partner> {
      const p = await partnerRepository.findById(knex, id, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** A partner the admin's structure owns, to edit; NotFoundError for any other. */
    async getToEdit(actor: Actor, id: string): Promise<Partner> {
      const p = await partnerRepository.findOwned(knex, id, actor.structureId, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** The ids of the partners the admin's structure owns (and so may edit). */
    async editableIds(actor: Actor): Promise<Set<string>> {
      return new Set(await partnerRepository.ownedIds(knex, actor.structureId));
    },

    /** The new partner belongs to the admin's structure. */
    async create(actor: Actor, input: CreatePartnerInput, ctx: RequestContext): Promise<Partner> {
      const names = input.services.map((s) => s.name.toLowerCase());
      if (new Set(names).size !== names.length)
        throw new ConflictError('Two services of this partner have the same name');
      return knex.transaction(async (trx) => {
        const id = await partnerRepository.insert(trx, actor.structureId, input, clock.now());
        await auditTrail.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.create',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partnerRepository.findById(trx, id, clock.now()))!;
      });
    },

    /**
     * A partner's new description (whole); editing it counts as reviewing it. A new email does
     * not take effect here: it waits, stored apart, until it is confirmed from that address (an
     * emailed link, 48 hours, single use), so that no referral email of any structure is sent
     * to an address nobody confirmed. A newer address replaces a pending one; an edit that keeps
     * the confirmed address leaves a pending change as it is (it expires by itself).
     */
    async update(
      actor: Actor,
      id: string,
      input: UpdatePartnerInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return uow(async (trx, outbox) => {
        const now = clock.now();
        const updated = await partnerRepository.update(trx, id, actor.structureId, input, now);
        if (!updated) throw new NotFoundError('Partner');
        if (updated.emailDiffers) {
          const change = await partnerEmailChangeRepository.issue(trx, linkSecret, {
            partnerId: id,
            structureId: actor.structureId,
            requestedBy: actor.id,
            newEmail: input.email,
            at: now,
          });
          // The link leaves from a job, after commit, like every email.
          await outbox.schedule({
            structureId: actor.structureId,
            kind: PARTNER_EMAIL_CONFIRM,
            subjectType: 'partner_email_change',
            subjectId: change.id,
            dueAt: now,
          });
        }
        await auditTrail.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.update',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
          ...(updated.emailDiffers ? { details: { emailChangeRequested: true } } : {}),
        });
        return (await partnerRepository.findById(trx, id, now))!;
      });
    },

    /** What a confirmation link opens on: the partner and its new address, or why it fails. */
    async emailChangeState(
      token: string,
    ): Promise<
      | { ok: true; partnerName: string; newEmail: string }
      | { ok: false; problem: EmailChangeProblem }
    > {
      const change = await partnerEmailChangeRepository.findByToken(knex, token);
      const problem = changeProblem(change, clock.now());
      if (problem) return { ok: false, problem };
      const partnerName = (await partnerRepository.nameOf(knex, change!.partnerId)) ?? '';
      return { ok: true, partnerName, newEmail: change!.newEmail };
    },

    /**
     * The new address confirmed (the link's form was sent from it): the email changes; the old
     * address is told by email, and the managers of every structure with an open referral to
     * the partner in the app, each structure's audit trail keeping the event (no address in it).
     */
    async confirmEmailChange(
      token: string,
      ctx: RequestContext,
    ): Promise<{ partnerName: string; newEmail: string }> {
      return uow(async (trx, outbox) => {
        const now = clock.now();
        const change = await partnerEmailChangeRepository.lockByToken(trx, token);
        const problem = changeProblem(change, now);
        if (problem === 'link_invalid') throw new NotFoundError('Link', 'link_invalid');
        if (problem)
          throw new BusinessRuleError(
            problem,
            problem === 'link_used' ? 'This link was already used' : 'This link has expired',
          );
        const c = change!;
        const oldEmail = await partnerRepository.lockEmail(trx, c.partnerId);
        if (oldEmail === null) throw new NotFoundError('Link', 'link_invalid');
        await partnerRepository.setEmail(trx, c.partnerId, c.newEmail, now);
        await partnerEmailChangeRepository.markConfirmed(trx, c.id, oldEmail, now);
        await outbox.schedule({
          structureId: c.structureId,
          kind: PARTNER_EMAIL_CHANGED,
          subjectType: 'partner_email_change',
          subjectId: c.id,
          dueAt: now,
        });
        const partnerName = (await partnerRepository.nameOf(trx, c.partnerId)) ?? '';
        const referring = await partnerRepository.structuresWithOpenReferrals(trx, c.partnerId);
        for (const structureId of referring) {
          for (const recipientId of await deps.managerIds(trx, structureId)) {
            await notifications.notifyInTransaction(trx, {
              structureId,
              recipientId,
              kind: PARTNER_EMAIL_CHANGED,
              subjectType: 'partner',
              subjectId: c.partnerId,
              dueMoment: now,
              title: `Les demandes d’orientation vers ${partnerName} partent désormais à ${c.newEmail}`,
              body: 'La nouvelle adresse a été confirmée depuis cette adresse. Si ce changement vous surprend, contactez la structure qui gère ce partenaire.',
            });
          }
        }
        for (const structureId of new Set([c.structureId, ...referring])) {
          await auditTrail.record(trx, {
            actor: null,
            structureId,
            action: 'partner.email_change',
            subjectType: 'partner',
            subjectId: c.partnerId,
            ip: ctx.ip,
            details: { changeId: c.id },
          });
        }
        return { partnerName, newEmail: c.newEmail };
      });
    },

    /** Adds a service, or updates one (whole) when `serviceId` is given; names stay unique. */
    async saveService(
      actor: Actor,
      partnerId: string,
      serviceId: string | null,
      input: ServiceInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        // The partner row lock serialises two saves of one partner's services; another
        // structure's partner is not found.
        if (!(await partnerRepository.lockOwned(trx, partnerId, actor.structureId)))
          throw new NotFoundError('Partner');
        // An unknown service is a 404 even when its new name is taken.
        if (serviceId && !(await partnerRepository.hasService(trx, partnerId, serviceId)))
          throw new NotFoundError('Service');
        if (
          await partnerRepository.serviceNameTaken(
            trx,
            partnerId,
            input.name,
            serviceId ?? undefined,
          )
        )
          throw new ConflictError('Another service of this partner has this name');
        let id = serviceId;
        if (id)
          await partnerRepository.updateService(trx, actor.structureId, partnerId, id, input, now);
        else id = await partnerRepository.insertService(trx, partnerId, input, now);
        await auditTrail.record(trx, {
          actor,
          structureId: actor.structureId,
          action: serviceId ? 'partner.service.update' : 'partner.service.create',
          subjectType: 'partner',
          subjectId: partnerId,
          ip: ctx.ip,
          details: { serviceId: id },
        });
        return (await partnerRepository.findById(trx, partnerId, now))!;
      });
    },

    /** The review and its audit event commit together, or neither does. */
    async review(actor: Actor, id: string, ctx: RequestContext): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        if (!(await partnerRepository.markReviewed(trx, id, actor.structureId, now)))
          throw new NotFoundError('Partner');
        await auditTrail.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.review',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partnerRepository.findById(trx, id, now))!;
      });
    },
  };
}

export type PartnerDirectory = ReturnType<typeof createPartnerDirectory>;
