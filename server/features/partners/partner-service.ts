import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, checkVersion, ConflictError, NotFoundError } from '../../lib/errors';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import { sendDeadlineEmail, type Mailer, type SentEmailLog } from '../../lib/mailer';
import type { Deadline, UnitOfWork } from '../deadlines/outbox';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import type { NotificationService } from '../notifications/notification-service';
import {
  changeProblem,
  PARTNER_ACCOUNT_OPENED,
  PARTNER_EMAIL_CHANGED,
  PARTNER_EMAIL_CONFIRM,
  PARTNER_EMAIL_PATH_PREFIX,
  partnerEmailTokenFor,
  type EmailChangeProblem,
  type PartnerEmailChange,
} from './partner-email-changes';
import type { PartnerEmailChangeRepository } from './partner-email-change-repository';
import { confirmPartnerEmail, partnerEmailChanged } from './partner-emails';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import { type PartnerRepository, type Partner } from './partner-repository';
import type {
  CreatePartnerInput,
  ListPartnersQuery,
  SaveServiceInput,
  UpdatePartnerInput,
} from './partner-schemas';

/**
 * The partner directory: read by the staff of every structure, maintained by the administrators
 * of the structure that owns each partner. A partner of another structure is not found (404), as
 * an unknown one is, for every change and for the edit pages.
 */
export interface PartnerDirectoryDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  /** LINK_SECRET: email confirmation tokens are derived from it. */
  linkSecret: string;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  /** The enabled managers of a structure, told when a partner's address changes. */
  managerIds(db: Knex.Transaction, structureId: string): Promise<string[]>;
  /**
   * The partner's unused referral links stop working (the referral-link service's
   * expireForPartner), in the transaction that confirms a new address.
   */
  expireReferralLinks(db: Knex.Transaction, partnerId: string, at: Date): Promise<number>;
  /**
   * The structures with a referral the partner's users read at `at`, whatever its status (the
   * referral repository's partner scope).
   */
  structuresPartnerReads(db: Knex.Transaction, partnerId: string, at: Date): Promise<string[]>;
  /** A structure's name, for the confirmation email. */
  structureName(db: Knex.Transaction, structureId: string): Promise<string | null>;
  partners: PartnerRepository;
  emailChanges: PartnerEmailChangeRepository;
  mailer: Pick<Mailer, 'send'>;
  sentEmails: SentEmailLog;
  publicUrl: string;
  idempotency: Pick<IdempotencyService, 'once'>;
}

type Notice = Parameters<NotificationService['notifyInTransaction']>[1];
type AuditEvent = Parameters<AuditTrail['record']>[1];

export function createPartnerDirectory(deps: PartnerDirectoryDeps) {
  const { audit, partners, emailChanges, sentEmails } = deps;
  const { knex, uow, clock, linkSecret, notifications, idempotency } = deps;

  /**
   * Tells structures that sent referrals to a partner of a change to it: their managers in the
   * app (never a person in the notice), their audit trails keeping the event.
   */
  async function tellReferringStructures(
    trx: Knex.Transaction,
    structureIds: readonly string[],
    notice: Omit<Notice, 'structureId' | 'recipientId'>,
    event: Omit<AuditEvent, 'structureId'>,
  ): Promise<void> {
    for (const structureId of structureIds) {
      for (const recipientId of await deps.managerIds(trx, structureId))
        await notifications.notifyInTransaction(trx, { ...notice, structureId, recipientId });
      await audit.record(trx, { ...event, structureId });
    }
  }

  return {
    /**
     * 'partner.email_confirm': the link to a partner's new address, the only email it gets until
     * it confirms. As for set-password links, the token is rebuilt from the change's id, so a
     * redelivery sends the same working link with the same Message-ID; `sent_emails` makes a
     * second one a no-op.
     */
    async sendEmailConfirmation(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const change = await emailChanges.findById(trx, deadline.subjectId);
      if (!change) return skipped('change not found');
      if (changeProblem(change, now))
        return skipped('change confirmed, replaced, withdrawn or expired');
      const partnerName = (await partners.nameOf(trx, change.partnerId)) ?? '';
      const structureName = (await deps.structureName(trx, change.structureId)) ?? 'aller-vers';
      const token = partnerEmailTokenFor(linkSecret, change.id);
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        confirmPartnerEmail({
          to: change.newEmail,
          partnerName,
          structureName,
          url: `${deps.publicUrl}${PARTNER_EMAIL_PATH_PREFIX}${token}`,
          expiresAt: change.expiresAt,
          messageId,
        }),
      );
      return done();
    },

    /** 'partner.email_changed': the old address is told where the partner's emails go now. */
    async sendEmailChangedNotice(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const change = await emailChanges.findById(trx, deadline.subjectId);
      if (!change?.confirmedAt || !change.oldEmail) return skipped('change not confirmed');
      const partnerName = (await partners.nameOf(trx, change.partnerId)) ?? '';
      const { oldEmail, newEmail, confirmedAt } = change;
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        partnerEmailChanged({ to: oldEmail, partnerName, newEmail, at: confirmedAt, messageId }),
      );
      return done();
    },

    /** Inside the caller's transaction: a partner of the directory as of `now`, or null. */
    findById: (db: Knex | Knex.Transaction, id: string, now: Date) =>
      partners.findById(db, id, now),
    exists: (db: Knex | Knex.Transaction, id: string) => partners.exists(db, id),
    nameOf: (db: Knex | Knex.Transaction, id: string) => partners.nameOf(db, id),
    /** The partner's enabled users, who are told of a new referral. */
    activeStaffIds: (db: Knex | Knex.Transaction, id: string) => partners.activeStaffIds(db, id),
    /** Whether the partner belongs to the structure (its admins create the partner's users). */
    ownedBy: (db: Knex | Knex.Transaction, structureId: string, id: string) =>
      partners.owns(db, structureId, id),

    async list(q: ListPartnersQuery) {
      const items = await partners.list(knex, clock.now(), q);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    async get(id: string): Promise<Partner> {
      const p = await partners.findById(knex, id, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** A partner the admin's structure owns, to edit; NotFoundError for any other. */
    async getToEdit(actor: Actor, id: string): Promise<Partner> {
      const p = await partners.findOwned(knex, id, actor.structureId, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** The ids of the partners the admin's structure owns (and so may edit). */
    async editableIds(actor: Actor): Promise<Set<string>> {
      return new Set(await partners.ownedIds(knex, actor.structureId));
    },

    /**
     * The new partner belongs to the admin's structure. Once per idempotency key: a repeat
     * answers the partner the first made (names are not unique: a second one would be listed).
     */
    async create(actor: Actor, input: CreatePartnerInput, ctx: RequestContext): Promise<Partner> {
      const names = input.services.map((s) => s.name.toLowerCase());
      if (new Set(names).size !== names.length)
        throw new ConflictError('Two services of this partner have the same name');
      return knex.transaction((trx) =>
        idempotency.once(trx, actor, ctx, {
          action: 'partner.create',
          input,
          async create() {
            const id = await partners.insert(trx, actor.structureId, input, clock.now());
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'partner.create',
              subjectType: 'partner',
              subjectId: id,
              ip: ctx.ip,
            });
            return (await partners.findById(trx, id, clock.now()))!;
          },
          ...replayById('partnerId', 'Partner', (id) => partners.findById(trx, id, clock.now())),
        }),
      );
    },

    /**
     * A partner's new description (whole); editing it counts as reviewing it. A new email does
     * not take effect here: it waits, stored apart, until it is confirmed from that address (an
     * emailed link, 48 hours, single use), so that no referral email of any structure is sent
     * to an address nobody confirmed. A newer address replaces a pending one; an edit that keeps
     * the confirmed address leaves a pending change as it is (it expires by itself, or an admin
     * withdraws it: `withdrawEmailChange`). `emailChangeIssued` says whether this edit asked
     * for a new address, and so sent a confirmation link.
     */
    async update(
      actor: Actor,
      id: string,
      input: UpdatePartnerInput,
      ctx: RequestContext,
    ): Promise<{ partner: Partner; emailChangeIssued: boolean }> {
      return uow(async (trx, outbox) => {
        const now = clock.now();
        const before = await partners.lockOwned(trx, id, actor.structureId);
        if (!before) throw new NotFoundError('Partner');
        await checkVersion(
          input.version,
          before.version,
          'This partner was changed by someone else; reload it',
          () => partners.findById(trx, id, now),
        );
        await partners.update(trx, id, actor.structureId, input, now);
        const emailChangeIssued = before.email !== input.email;
        if (emailChangeIssued) {
          const change = await emailChanges.issue(trx, linkSecret, {
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
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.update',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
          ...(emailChangeIssued ? { details: { emailChangeRequested: true } } : {}),
        });
        return { partner: (await partners.findById(trx, id, now))!, emailChangeIssued };
      });
    },

    /**
     * The address waiting for confirmation is withdrawn (mistyped, or not wanted after all): its
     * link stops working at once, as a replaced one does, and every email keeps going to the
     * confirmed address. Nothing waiting is no change and no event; `withdrawnEmail` says which
     * address was withdrawn, if any. A unit of work, as `update`: the partner's row, then its
     * changes, like every write on a partner's address, and a lost race is run again.
     */
    async withdrawEmailChange(
      actor: Actor,
      id: string,
      ctx: RequestContext,
    ): Promise<{ partner: Partner; withdrawnEmail: string | null }> {
      return uow(async (trx) => {
        const now = clock.now();
        if (!(await partners.lockOwned(trx, id, actor.structureId)))
          throw new NotFoundError('Partner');
        const revoked = await emailChanges.revokePending(trx, id, now);
        const withdrawn = revoked.filter((c) => !changeProblem(c, now));
        if (withdrawn.length) {
          await audit.record(trx, {
            actor,
            structureId: actor.structureId,
            action: 'partner.email_change.withdraw',
            subjectType: 'partner',
            subjectId: id,
            ip: ctx.ip,
            details: { changeIds: withdrawn.map((c) => c.id) },
          });
        }
        return {
          partner: (await partners.findById(trx, id, now))!,
          withdrawnEmail: withdrawn[0]?.newEmail ?? null,
        };
      });
    },

    /** What a confirmation link opens on: the partner and its new address, or why it fails. */
    async emailChangeState(
      token: string,
    ): Promise<
      | { ok: true; partnerName: string; newEmail: string }
      | { ok: false; problem: EmailChangeProblem }
    > {
      const change = await emailChanges.findByToken(knex, token);
      const problem = changeProblem(change, clock.now());
      if (problem) return { ok: false, problem };
      const partnerName = (await partners.nameOf(knex, change!.partnerId)) ?? '';
      return { ok: true, partnerName, newEmail: change!.newEmail };
    },

    /**
     * The new address confirmed (the link's form was sent from it): the email changes, and the
     * referral links already sent to the old address stop working (whoever reads it may not be
     * the partner any more; pending reminders carry fresh links to the new one); the old
     * address is told by email, and the managers of every structure with an open referral to
     * the partner in the app, each structure's audit trail keeping the event (no address in it).
     *
     * Lock order, as `update` and `withdrawEmailChange` take them: the partner's row, then the
     * change's. The change is read first, unlocked, to know its partner; once the partner is
     * locked it is read again, locked, and checked again (withdrawn or replaced meanwhile: 404).
     */
    async confirmEmailChange(
      token: string,
      ctx: RequestContext,
    ): Promise<{ partnerName: string; newEmail: string }> {
      return uow(async (trx, outbox) => {
        const now = clock.now();
        const usable = (change: PartnerEmailChange | null): PartnerEmailChange => {
          const problem = changeProblem(change, now);
          if (problem === 'link_invalid') throw new NotFoundError('Link', 'link_invalid');
          if (problem)
            throw new BusinessRuleError(
              problem,
              problem === 'link_used' ? 'This link was already used' : 'This link has expired',
            );
          return change!;
        };
        const seen = usable(await emailChanges.findByToken(trx, token));
        const oldEmail = await partners.lockEmail(trx, seen.partnerId);
        const c = usable(await emailChanges.lockByToken(trx, token));
        if (oldEmail === null) throw new NotFoundError('Link', 'link_invalid');
        await partners.setEmail(trx, c.partnerId, c.newEmail, now);
        await deps.expireReferralLinks(trx, c.partnerId, now);
        await emailChanges.markConfirmed(trx, c.id, oldEmail, now);
        await outbox.schedule({
          structureId: c.structureId,
          kind: PARTNER_EMAIL_CHANGED,
          subjectType: 'partner_email_change',
          subjectId: c.id,
          dueAt: now,
        });
        const partnerName = (await partners.nameOf(trx, c.partnerId)) ?? '';
        // The partner's mail is about its open referrals (a closed one gets none), so the
        // structures with an open referral are those its new address concerns.
        const referring = await partners.structuresWithOpenReferrals(trx, c.partnerId);
        const event = {
          actor: null,
          action: 'partner.email_change',
          subjectType: 'partner',
          subjectId: c.partnerId,
          ip: ctx.ip,
          details: { changeId: c.id },
        };
        await tellReferringStructures(
          trx,
          referring,
          {
            kind: PARTNER_EMAIL_CHANGED,
            subjectType: 'partner',
            subjectId: c.partnerId,
            dueMoment: now,
            title: `Les demandes d’orientation vers ${partnerName} partent désormais à ${c.newEmail}`,
            body: 'La nouvelle adresse a été confirmée depuis cette adresse. Si ce changement vous surprend, contactez la structure qui gère ce partenaire.',
          },
          event,
        );
        if (!referring.includes(c.structureId))
          await audit.record(trx, { ...event, structureId: c.structureId });
        return { partnerName, newEmail: c.newEmail };
      });
    },

    /**
     * A partner account opened (invited, or enabled again) by the owner's admin, in the caller's
     * transaction. A partner user reads every referral addressed to the partner, whichever
     * structure sent it, so an account for an address the owner's admin controls would show them
     * another structure's people: the managers of every other structure with a referral the
     * account reads (any status, while the person's consent for the partner stands) are told in
     * the app (the partner and the account's email, never a person), each of those structures'
     * audit trail keeping the event.
     */
    async announceAccount(
      trx: Knex.Transaction,
      account: {
        partnerId: string;
        /** The structure whose admin opened the account (the partner's owner). */
        structureId: string;
        userId: string;
        email: string;
        ip: string | null;
      },
    ): Promise<void> {
      const now = clock.now();
      const partnerName = (await partners.nameOf(trx, account.partnerId)) ?? '';
      const readable = (await deps.structuresPartnerReads(trx, account.partnerId, now)).filter(
        (s) => s !== account.structureId,
      );
      await tellReferringStructures(
        trx,
        readable,
        {
          kind: PARTNER_ACCOUNT_OPENED,
          subjectType: 'user',
          subjectId: account.userId,
          dueMoment: now,
          title: `Nouveau compte chez ${partnerName} : ${account.email}`,
          body: 'Ce compte, ouvert par la structure qui gère ce partenaire, voit les demandes d’orientation que votre structure lui adresse. Si ce compte vous surprend, contactez cette structure.',
        },
        {
          actor: null,
          action: 'partner.account_open',
          subjectType: 'partner',
          subjectId: account.partnerId,
          ip: account.ip,
          details: { userId: account.userId },
        },
      );
    },

    /** Adds a service, or updates one (whole) when `serviceId` is given; names stay unique. */
    async saveService(
      actor: Actor,
      partnerId: string,
      serviceId: string | null,
      input: SaveServiceInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        // The partner row lock serialises two saves of one partner's services; another
        // structure's partner is not found.
        if (!(await partners.lockOwned(trx, partnerId, actor.structureId)))
          throw new NotFoundError('Partner');
        // An unknown service is a 404 even when its new name is taken; a service changed since
        // the version given (its partner's row lock keeps it as read) is a 409.
        if (serviceId) {
          const version = await partners.serviceVersion(trx, partnerId, serviceId);
          if (version === null) throw new NotFoundError('Service');
          await checkVersion(
            input.version,
            version,
            'This service was changed by someone else; reload it',
            () => partners.findById(trx, partnerId, now),
          );
        }
        if (await partners.serviceNameTaken(trx, partnerId, input.name, serviceId ?? undefined))
          throw new ConflictError('Another service of this partner has this name');
        let id = serviceId;
        if (id) await partners.updateService(trx, actor.structureId, partnerId, id, input, now);
        else id = await partners.insertService(trx, partnerId, input, now);
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: serviceId ? 'partner.service.update' : 'partner.service.create',
          subjectType: 'partner',
          subjectId: partnerId,
          ip: ctx.ip,
          details: { serviceId: id },
        });
        return (await partners.findById(trx, partnerId, now))!;
      });
    },

    /** The review and its audit event commit together, or neither does. */
    async review(actor: Actor, id: string, ctx: RequestContext): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        if (!(await partners.markReviewed(trx, id, actor.structureId, now)))
          throw new NotFoundError('Partner');
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.review',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partners.findById(trx, id, now))!;
      });
    },
  };
}

export type PartnerDirectory = ReturnType<typeof createPartnerDirectory>;
