import type { Knex } from 'knex';
import { PERSON_ROLES, type Actor } from '../../auth/actor';
import { businessDaysBetween } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import {
  BusinessRuleError,
  checkVersion,
  ForbiddenError,
  InvalidTransitionError,
  NotFoundError,
  ValidationError,
} from '../../lib/errors';
import type { Deadline, OutboxIn, OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { ConsentService } from '../consents/consent-service';
import type { FollowUpService } from '../follow-ups/follow-up-service';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import type { NotificationService } from '../notifications/notification-service';
import type { PartnerDirectory } from '../partners/partner-service';
import { fileNotFollowed, remindersOff } from '../persons/person-reminders';
import type { PersonService } from '../persons/person-service';
import type { RightService } from '../rights/right-service';
import type { SettingsService } from '../settings/settings-service';
import type { TeamService } from '../teams/team-service';
import type { UserService } from '../users/user-service';
import type {
  PartnerReferral,
  Referral,
  ReferralFollowUpPurpose,
  ReferralRepository,
  ReferralRecord,
} from './referral-repository';
import {
  referralExpiresAt,
  reminderBusinessDays,
  responseDelayOf,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_AWAITING_ANSWER_KINDS,
  REFERRAL_DEADLINE_KINDS,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_ESCALATED_NOTICE,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
  type CreateReferralInput,
  type ListReferralsQuery,
  type TransitionInput,
  type TransitionTarget,
} from './referral-schemas';
import {
  ACTOR_FOR,
  OPEN_STATUSES,
  REASON_REQUIRED,
  REJECTION_REASONS,
  STATUS_LABELS,
  SYSTEM_REASONS,
  TERMINAL_STATUSES,
  TRANSITIONS,
  UNDER_WAY_STATUSES,
  canTransition,
  actsForRequester,
  mayMove,
  type ReferralStatus,
  type RequesterSide,
} from './referral-state';
import { createPartnerWithdrawal } from './partner-withdrawal';
import { linkPurposeFor } from './referral-link-service';
import type { LinkPurpose } from './referral-link-tokens';

export interface ReferralServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: Pick<
    PersonService,
    'lock' | 'lockInScope' | 'lockForWrite' | 'find' | 'exists' | 'touch' | 'moveReferent'
  >;
  users: Pick<UserService, 'findActiveStaff'>;
  /** Who hears of a leaver's referrals when the person's file has no active référent either. */
  teams: Pick<TeamService, 'managersOf'>;
  consents: Pick<ConsentService, 'validForReferral'>;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  partners: Pick<PartnerDirectory, 'findById' | 'nameOf' | 'activeStaffIds'>;
  referrals: ReferralRepository;
  followUps: Pick<FollowUpService, 'planInTransaction' | 'isOpen'>;
  /** The catalogue, for the right a referral may name. */
  rights: Pick<RightService, 'rightForReferral' | 'updatableRight'>;
  clock: Clock;
  /**
   * The structure's settings (response delay without a service, expiry, loop closing) and its
   * calendar, which places SLA dates in business days and keeps partner emails within working
   * hours.
   */
  settings: Pick<SettingsService, 'rulesOf'>;
  /** The outbox inside the deadline's transaction (jobs), which this service does not own. */
  outboxIn: OutboxIn;
  idempotency: Pick<IdempotencyService, 'once'>;
}

/**
 * How long an expiry waits, each time, for the reminder and escalation due with it to run first
 * (see `expireDue`).
 */
export const EXPIRY_WAIT_MS = 60_000;

/**
 * How long a moved expiry keeps waiting for the reminder and escalation that were due with it:
 * past an hour, a reminder still queued is no use to anyone and the expiry cancels it.
 */
export const EXPIRY_WAIT_LIMIT_MS = 60 * 60_000;

/** Who moves a referral: a signed-in user, a partner through a signed link, or the system. */
type TransitionBy =
  | { kind: 'user'; actor: Actor }
  | { kind: 'link'; linkId: string }
  | { kind: 'system'; reasonCode: string; actor?: Actor };

/** The statuses that close the help and may carry an outcome. */
const OUTCOME_STATUSES: readonly ReferralStatus[] = ['completed', 'failed'];

const PARTNER_ANSWERS: readonly ReferralStatus[] = [
  'accepted',
  'rejected',
  'in_progress',
  'on_hold',
  'completed',
  'failed',
];

/**
 * What the requester is told when the partner moves their referral, or when it expires: the
 * partner and what happened, never the person (the title may go out by email). A move into
 * `in_progress` from `on_hold` is a resumption.
 */
function requesterNoticeTitle(
  from: ReferralStatus,
  to: ReferralStatus,
  partnerName: string | null,
): string {
  const who = partnerName ?? 'Le partenaire';
  const by = partnerName ?? 'le partenaire';
  switch (to) {
    case 'in_progress':
      return from === 'on_hold'
        ? `${who} a repris l’accompagnement`
        : `${who} a commencé l’accompagnement`;
    case 'on_hold':
      return `${who} a mis l’orientation en pause`;
    case 'failed':
      return `${who} indique que l’orientation n’a pas abouti`;
    case 'expired':
      return `Orientation vers ${by} expirée sans réponse`;
    default:
      // Acceptée, refusée, réalisée par…
      return `Orientation ${STATUS_LABELS[to].toLowerCase()} par ${by}`;
  }
}

export function createReferralService(deps: ReferralServiceDeps) {
  const { audit } = deps;
  const { knex, uow, persons, users, teams, consents, notifications, partners } = deps;
  const { referrals, followUps, rights, clock, outboxIn, idempotency } = deps;

  const { rulesOf } = deps.settings;
  const withdrawal = createPartnerWithdrawal(deps);
  const tellPartnerWithdrawn = withdrawal.tell;

  /**
   * The label of the right a referral serves, shortened for a follow-up's title; null if none, or
   * if it can no longer be set for the person (archived and not tracked): no follow-up asks for
   * an update the file would refuse.
   */
  async function servedRightLabel(trx: Knex.Transaction, row: ReferralRecord) {
    if (!row.rightId) return null;
    const right = await rights.updatableRight(trx, row.structureId, row.personId, row.rightId);
    if (!right) return null;
    return right.label.length > 80 ? `${right.label.slice(0, 79)}…` : right.label;
  }

  /**
   * Who is told about a referral in its requester's name: the requester while an active worker
   * or manager of the structure; once they have left, the person's référent if active staff,
   * else the managers leading the requester's teams (`managersOf`: every active manager when
   * none leads them). A leaver's referrals still reach someone. The référent is read only when
   * the requester has left.
   */
  async function requesterOrStandIns(
    trx: Knex.Transaction,
    structureId: string,
    requesterId: string | null,
    referentOf: () => Promise<string | null>,
  ): Promise<string[]> {
    if (requesterId && (await users.findActiveStaff(trx, structureId, requesterId)))
      return [requesterId];
    const referentId = await referentOf();
    if (referentId && (await users.findActiveStaff(trx, structureId, referentId)))
      return [referentId];
    if (!requesterId) return [];
    return (await teams.managersOf(trx, structureId, requesterId)).map((m) => m.id);
  }

  /**
   * Who acts for a requester who is no longer active staff: the person's référent while active
   * staff, the one `requesterOrStandIns` tells in their stead; null while the requester is at
   * work, or when the file has no active référent (the managers then act, as they always may).
   */
  async function standInOf(
    db: Knex | Knex.Transaction,
    row: Pick<ReferralRecord, 'structureId' | 'requesterId' | 'personId'>,
  ): Promise<string | null> {
    if (row.requesterId && (await users.findActiveStaff(db, row.structureId, row.requesterId)))
      return null;
    const referentId = (await persons.find(db, row.structureId, row.personId))?.referentId;
    if (!referentId) return null;
    return (await users.findActiveStaff(db, row.structureId, referentId)) ? referentId : null;
  }

  /** Who acts in the requester's name on this referral (`actsForRequester`'s data). */
  async function requesterSideOf(
    db: Knex | Knex.Transaction,
    actor: Actor,
    row: ReferralRecord,
  ): Promise<RequesterSide> {
    // Only a worker other than the requester needs to know who stands in.
    const standInId =
      actor.role === 'worker' && actor.id !== row.requesterId ? await standInOf(db, row) : null;
    return { requesterId: row.requesterId, standInId };
  }

  async function authorise(
    db: Knex | Knex.Transaction,
    actor: Actor,
    row: ReferralRecord,
    to: TransitionTarget,
  ): Promise<void> {
    if (mayMove(actor, await requesterSideOf(db, actor, row), to)) return;
    const who = ACTOR_FOR[to];
    if (who === 'system') throw new ForbiddenError('Only the system expires a referral');
    if (who === 'partner') {
      throw new ForbiddenError(
        'Only the partner accepts, rejects, starts, holds, completes or fails a referral',
      );
    }
    throw new ForbiddenError(
      'Only the requester, a manager, or the référent standing in for a requester who left can cancel a referral',
    );
  }

  /**
   * A reason goes with the moves that require one only (a refusal, a cancellation, a pause, a
   * failure): one given with any other was not meant as sent (a failure's reason under the
   * completion's button), so it is refused rather than kept as a note on the move. One rule for
   * the API, the pages and the signed links, which all come through `apply`.
   */
  function checkReason(to: ReferralStatus, reason: string | undefined): void {
    if (reason && !REASON_REQUIRED.includes(to)) {
      throw new ValidationError(`Invalid body: reason: a move to ${to} takes no reason`, [
        {
          field: 'reason',
          code: 'not_taken',
          message: `is only for ${REASON_REQUIRED.join(', ')}`,
        },
      ]);
    }
    if (to === 'rejected') {
      if (!reason || !(REJECTION_REASONS as readonly string[]).includes(reason)) {
        throw new ValidationError(
          `Invalid body: reason: a rejection needs one of ${REJECTION_REASONS.join(', ')}`,
          [{ field: 'reason', message: `must be one of ${REJECTION_REASONS.join(', ')}` }],
        );
      }
      return;
    }
    if (REASON_REQUIRED.includes(to) && !reason) {
      throw new ValidationError(`Invalid body: reason: is required to move a referral to ${to}`, [
        { field: 'reason', message: `is required for ${to}` },
      ]);
    }
  }

  /** What the help came to is said when it ends: a move elsewhere must not overwrite it. */
  function checkOutcome(to: ReferralStatus, outcome: string | undefined): void {
    if (outcome !== undefined && !OUTCOME_STATUSES.includes(to)) {
      throw new ValidationError(
        `Invalid body: outcome: only a move to ${OUTCOME_STATUSES.join(' or ')} records an outcome`,
        [{ field: 'outcome', message: `is only for ${OUTCOME_STATUSES.join(', ')}` }],
      );
    }
  }

  /**
   * The state machine's one door: checks the transition, writes the new status and its event,
   * moves the referral's deadlines and tells the requester about a partner's answer.
   * The caller holds the referral row lock, so two concurrent moves end in one winner and a 409.
   */
  async function apply(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    row: ReferralRecord,
    to: ReferralStatus,
    by: TransitionBy,
    input: { reason?: string; outcome?: string },
  ): Promise<void> {
    if (!canTransition(row.status, to)) {
      throw new InvalidTransitionError(`A ${row.status} referral cannot become ${to}`, {
        from: row.status,
        to,
        allowed: TRANSITIONS[row.status],
        version: row.version,
      });
    }
    if (by.kind !== 'system') {
      checkReason(to, input.reason);
      checkOutcome(to, input.outcome);
    }
    const now = clock.now();
    const reasonCode =
      by.kind === 'system' ? by.reasonCode : to === 'rejected' ? (input.reason ?? null) : null;
    const note = to === 'rejected' || by.kind === 'system' ? null : (input.reason ?? null);
    const terminal = TERMINAL_STATUSES.includes(to);

    await referrals.updateStatus(trx, row.id, {
      status: to,
      reasonCode,
      outcome: input.outcome,
      respondedAt: row.status === 'requested' && PARTNER_ANSWERS.includes(to) ? now : undefined,
      closedAt: terminal ? now : undefined,
      at: now,
    });
    await referrals.insertEvent(trx, {
      referralId: row.id,
      structureId: row.structureId,
      fromStatus: row.status,
      toStatus: to,
      actorKind: by.kind === 'system' && by.actor ? 'user' : by.kind,
      actorId:
        by.kind === 'user' ? by.actor.id : by.kind === 'system' ? (by.actor?.id ?? null) : null,
      reasonCode,
      note,
      at: now,
    });
    // A user's move and a link's use are audited by their callers; the system's own moves (SLA
    // expiry, cancellation on consent revocation) are audited here, with the user behind them
    // when there is one.
    if (by.kind === 'system') {
      await audit.record(trx, {
        actor: by.actor ?? null,
        structureId: row.structureId,
        action: 'referral.transition',
        subjectType: 'referral',
        subjectId: row.id,
        details: { from: row.status, to, by: 'system', reasonCode },
      });
    }

    if (terminal) {
      await outbox.cancel('referral', row.id, [...REFERRAL_DEADLINE_KINDS]);
    } else if (row.status === 'requested') {
      // A link sent again while requested is the respond link: the partner answered meanwhile.
      await outbox.cancel('referral', row.id, [
        ...REFERRAL_AWAITING_ANSWER_KINDS,
        REFERRAL_RESEND_LINK,
      ]);
    }
    if (to === 'accepted') {
      // Closing the loop: the question to the partner and the referent's follow-up, at one moment.
      const { settings, calendar } = await rulesOf(trx, row.structureId);
      const dueAt = calendar.nextWorkingMoment(
        calendar.addBusinessDays(now, settings.loopClosingDays),
      );
      for (const kind of [REFERRAL_ASK_OUTCOME, REFERRAL_OUTCOME_FOLLOW_UP]) {
        await outbox.schedule({
          structureId: row.structureId,
          kind,
          subjectType: 'referral',
          subjectId: row.id,
          dueAt,
        });
      }
    }

    const partnerAnswered =
      PARTNER_ANSWERS.includes(to) &&
      (by.kind === 'link' || (by.kind === 'user' && by.actor.role === 'partner'));
    // What an expiry sets off (the requester told, a follow-up to re-refer) is automatic and
    // about the person: nothing once the file is closed or anonymised. A paused file keeps both,
    // as pausing stops reminders, not the worker's tasks. The expiry itself stands either way.
    const expiredFollowed =
      to === 'expired' && !fileNotFollowed(await persons.lock(trx, row.structureId, row.personId));
    if (row.requesterId && (partnerAnswered || expiredFollowed)) {
      const partnerName = await partners.nameOf(trx, row.partnerId);
      const recipients = await requesterOrStandIns(
        trx,
        row.structureId,
        row.requesterId,
        async () => (await persons.lock(trx, row.structureId, row.personId))?.referentId ?? null,
      );
      for (const recipientId of recipients) {
        await notifications.notifyInTransaction(trx, {
          structureId: row.structureId,
          recipientId,
          kind: `referral.${to}`,
          subjectType: 'referral',
          subjectId: row.id,
          dueMoment: now,
          title: requesterNoticeTitle(row.status, to, partnerName),
          link: `/orientations/${row.id}`,
        });
      }
    }
    if (to === 'cancelled') await tellPartnerWithdrawn(trx, outbox, row, now);
    if (OUTCOME_STATUSES.includes(to) && row.rightId) {
      // The help ended: the referent is asked now to update the right the referral served, with
      // a follow-up of its own (`outcome_right`), unless the loop-closing one still waits open,
      // which asks the same. One already done was done before the outcome was known. An
      // automatic task, so none for a closed or anonymised file, as the loop-closing job decides
      // (a paused one gets it).
      const label = await servedRightLabel(trx, row);
      const person = await persons.lock(trx, row.structureId, row.personId);
      const partnerName = await partners.nameOf(trx, row.partnerId);
      const loopClosing = await referrals.followUpFor(trx, row.id, 'update_right');
      const loopClosingOpen =
        loopClosing !== null && (await followUps.isOpen(trx, row.structureId, loopClosing));
      if (label && person && !fileNotFollowed(person) && !loopClosingOpen) {
        await planStaffFollowUp(
          trx,
          outbox,
          row,
          'outcome_right',
          [person.referentId, row.requesterId],
          {
            // Names the partner and the right, never the person: it may go out by email.
            title: `Mettre à jour le droit « ${label} » : l'orientation ${partnerName ? `vers ${partnerName} ` : ''}${to === 'completed' ? 'est terminée' : 'a échoué'}`,
            dueAt: now,
          },
        );
      }
    }
    if (expiredFollowed) {
      // The requester re-refers; once they have left, the person's référent.
      const person = await persons.lock(trx, row.structureId, row.personId);
      await planStaffFollowUp(
        trx,
        outbox,
        row,
        'reorient',
        [row.requesterId, person?.referentId ?? null],
        {
          title: 'Réorienter : la demande au partenaire a expiré sans réponse',
          dueAt: now,
        },
      );
    }
    await persons.touch(trx, row.structureId, row.personId, now);
  }

  /**
   * A follow-up the referral plans for staff on its own, in the caller's transaction, through the
   * follow-up service: for the first of `candidates` still an active worker or manager of the
   * structure. At most one per referral and purpose (`referral_follow_ups`), so a job delivered
   * twice plans it once. Null when one existed already or nobody can take it.
   */
  async function planStaffFollowUp(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    row: ReferralRecord,
    purpose: ReferralFollowUpPurpose,
    candidates: (string | null)[],
    f: { title: string; dueAt: Date },
  ): Promise<string | null> {
    if (await referrals.followUpFor(trx, row.id, purpose)) return null;
    for (const id of candidates) {
      if (!id) continue;
      const user = await users.findActiveStaff(trx, row.structureId, id);
      if (!user) continue;
      const followUpId = await followUps.planInTransaction(trx, outbox, user, {
        personId: row.personId,
        title: f.title,
        dueAt: f.dueAt,
        assigneeId: user.id,
      });
      await referrals.recordFollowUp(trx, row.id, purpose, followUpId, clock.now());
      // Planned by the system on the person's file: audited as a follow-up creation.
      await audit.record(trx, {
        actor: null,
        structureId: row.structureId,
        action: 'follow_up.create',
        subjectType: 'person',
        subjectId: row.personId,
        details: { followUpId, referralId: row.id, purpose, by: 'system' },
      });
      return followUpId;
    }
    return null;
  }

  /**
   * Lock order for every referral move: the person's row, then the referral's. Creating a
   * referral and revoking a consent lock the person first too, so a revocation (person, then the
   * pair's consents and referrals) and a move of one of those referrals cannot wait on each other
   * in a cycle. `find` reads the referral without a lock, to know its person; `lock` reads it
   * again, locked, and re-checks whatever `find` checked (a scope may have closed meanwhile).
   * A user's move (`byUser`) is a write on the file: an anonymised one refuses it (409), staff
   * and partner alike. Returns the referral row locked, or undefined.
   */
  async function lockPersonThenReferral(
    trx: Knex.Transaction,
    find: () => Promise<ReferralRecord | undefined>,
    lock: () => Promise<ReferralRecord | undefined>,
    byUser: boolean,
  ): Promise<ReferralRecord | undefined> {
    const seen = await find();
    if (!seen) return undefined;
    if (byUser) await persons.lockForWrite(trx, seen.structureId, seen.personId);
    else await persons.lock(trx, seen.structureId, seen.personId);
    return lock();
  }

  /**
   * For the system and signed links, which reach a referral by its id. Anonymisation cancels a
   * file's open referrals and ends its links, so neither finds one of them still to move.
   */
  const lockForMove = (trx: Knex.Transaction, id: string) =>
    lockPersonThenReferral(
      trx,
      () => referrals.findRow(trx, id),
      () => referrals.lockById(trx, id),
      false,
    );

  /**
   * The referral as this user may move it: staff, of their structure; partner users, addressed
   * to their organisation while the person's consent stands. Nobody else moves a referral.
   */
  function rowInScope(trx: Knex.Transaction, actor: Actor, id: string, lock: boolean) {
    if (actor.role === 'partner') {
      return actor.partnerId
        ? referrals.rowForPartner(trx, actor.partnerId, id, clock.now(), lock)
        : Promise.resolve(undefined);
    }
    return PERSON_ROLES.includes(actor.role)
      ? referrals.rowForStaff(trx, actor.structureId, id, lock)
      : Promise.resolve(undefined);
  }

  /**
   * Scope first: a referral the caller may not see is a 404 before any lock, so nobody locks a
   * person row (or learns from the wait that the id exists) by posting moves to a referral id.
   */
  async function lockInScope(trx: Knex.Transaction, actor: Actor, id: string) {
    const row = await lockPersonThenReferral(
      trx,
      () => rowInScope(trx, actor, id, false),
      () => rowInScope(trx, actor, id, true),
      true,
    );
    if (!row) throw new NotFoundError('Referral');
    return row;
  }

  async function viewFor(
    db: Knex | Knex.Transaction,
    actor: Actor,
    id: string,
  ): Promise<Referral | PartnerReferral> {
    const view =
      actor.role === 'partner'
        ? actor.partnerId
          ? await referrals.findForPartner(db, actor.partnerId, id, clock.now())
          : null
        : PERSON_ROLES.includes(actor.role)
          ? await referrals.findForStaff(db, actor.structureId, id)
          : null;
    if (!view) throw new NotFoundError('Referral');
    return view;
  }

  /**
   * The SLA passed without an answer (system only); a no-op when the partner answered. A closed
   * or anonymised file's referral expires too, telling nobody and planning nothing (see apply).
   */
  async function expire(trx: Knex.Transaction, referralId: string): Promise<boolean> {
    const row = await lockForMove(trx, referralId);
    if (!row || row.status !== 'requested') return false;
    await apply(
      trx,
      outboxIn(trx),
      row,
      'expired',
      {
        kind: 'system',
        reasonCode: SYSTEM_REASONS.slaPassed,
      },
      {},
    );
    return true;
  }

  /** A new referral, its deadlines, notifications and audit event, in the caller's transaction. */
  async function createIn(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    personId: string,
    input: CreateReferralInput,
    ctx: RequestContext,
  ): Promise<Referral> {
    await persons.lockInScope(trx, actor, personId);
    const now = clock.now();
    const partner = await partners.findById(trx, input.partnerId, now);
    if (!partner) {
      throw new ValidationError('Invalid body: partnerId: unknown partner', [
        { field: 'partnerId', message: 'is not a partner of the directory' },
      ]);
    }
    if (partner.stale) {
      throw new BusinessRuleError(
        'partner_stale',
        'This partner has not been reviewed for 6 months and is not offered for new referrals',
      );
    }
    let serviceId: string | null = null;
    const { settings, calendar } = await rulesOf(trx, actor.structureId);
    const service = input.serviceId
      ? partner.services.find((s) => s.id === input.serviceId)
      : undefined;
    if (input.serviceId) {
      if (!service) {
        throw new ValidationError('Invalid body: serviceId: not a service of this partner', [
          { field: 'serviceId', message: 'is not a service of this partner' },
        ]);
      }
      if (service.stale) {
        throw new BusinessRuleError(
          'service_stale',
          'This service has not been reviewed for 6 months and is not offered for new referrals',
        );
      }
      serviceId = service.id;
    }
    const responseDelay = responseDelayOf(
      service?.responseDelayDays,
      settings.referralResponseDays,
    );
    let rightId: string | null = null;
    if (input.rightCode) {
      const right = await rights.rightForReferral(trx, actor, input.rightCode);
      if (!right) {
        throw new ValidationError('Invalid body: rightCode: unknown right', [
          { field: 'rightCode', message: "is not a right of your structure's catalogue" },
        ]);
      }
      rightId = right.id;
    }
    const consent = await consents.validForReferral(
      trx,
      actor.structureId,
      personId,
      partner.id,
      now,
    );

    const id = await referrals.insert(trx, {
      structureId: actor.structureId,
      personId,
      partnerId: partner.id,
      serviceId,
      consentId: consent.id,
      requesterId: actor.id,
      rightId,
      reason: input.reason,
      sharedSummary: input.sharedSummary ?? null,
      at: now,
    });
    await referrals.insertEvent(trx, {
      referralId: id,
      structureId: actor.structureId,
      fromStatus: null,
      toStatus: 'requested',
      actorKind: 'user',
      actorId: actor.id,
      reasonCode: null,
      note: null,
      at: now,
    });
    // The partner's email leaves from a job, never from the request, and never outside
    // working hours: it waits for the next working morning.
    await outbox.schedule({
      structureId: actor.structureId,
      kind: REFERRAL_EMAIL_PARTNER,
      subjectType: 'referral',
      subjectId: id,
      dueAt: calendar.nextWorkingMoment(now),
    });
    await outbox.schedule({
      structureId: actor.structureId,
      kind: REFERRAL_EXPIRE,
      subjectType: 'referral',
      subjectId: id,
      dueAt: referralExpiresAt(calendar, now, responseDelay, settings),
    });
    // The SLA's reminders and escalation; all cancelled once the partner answers.
    const sla = (days: number) => calendar.nextWorkingMoment(calendar.addBusinessDays(now, days));
    const reminderDays = reminderBusinessDays(responseDelay);
    for (const [kind, days] of [
      ...reminderDays.map((d) => [REFERRAL_REMIND_PARTNER, d] as const),
      [REFERRAL_ESCALATE_REQUESTER, responseDelay] as const,
    ]) {
      await outbox.schedule({
        structureId: actor.structureId,
        kind,
        subjectType: 'referral',
        subjectId: id,
        dueAt: sla(days),
      });
    }
    // The partner's staff with an account see it arrive in their notifications; the title
    // names the requesting structure only, never the person.
    const structureName = await referrals.structureName(trx, actor.structureId);
    for (const recipientId of await partners.activeStaffIds(trx, partner.id)) {
      await notifications.notifyInTransaction(trx, {
        structureId: actor.structureId,
        recipientId,
        kind: 'referral.received',
        subjectType: 'referral',
        subjectId: id,
        dueMoment: now,
        title: `Nouvelle demande d'orientation de ${structureName ?? 'une structure'}`,
        link: `/orientations/${id}`,
      });
    }
    await persons.touch(trx, actor.structureId, personId, now);
    await audit.record(trx, {
      actor,
      structureId: actor.structureId,
      action: 'referral.create',
      subjectType: 'referral',
      subjectId: id,
      ip: ctx.ip,
      details: {
        personId,
        partnerId: partner.id,
        consentId: consent.id,
        ...(input.rightCode ? { rightCode: input.rightCode } : {}),
      },
    });
    return (await referrals.findForStaff(trx, actor.structureId, id))!;
  }

  return {
    apply,
    lockForMove,

    /**
     * Sends a referral to a partner, with the consent it rests on; once per idempotency key: a
     * repeat answers the referral the first made, and the partner is emailed once.
     */
    async create(
      actor: Actor,
      personId: string,
      input: CreateReferralInput,
      ctx: RequestContext,
    ): Promise<Referral> {
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          action: 'referral.create',
          input: { personId, ...input },
          create: () => createIn(trx, outbox, actor, personId, input, ctx),
          ...replayById('referralId', 'Referral', (id) =>
            referrals.findForStaff(trx, actor.structureId, id),
          ),
        }),
      );
    },

    /**
     * For a partner user's daily digest (in its transaction): the referrals waiting for its
     * organisation's answer, counted as its inbox shows them; never who they are about.
     */
    countAwaitingAnswer(db: Knex | Knex.Transaction, partnerId: string, now: Date) {
      return referrals.countAwaitingAnswer(db, partnerId, now);
    },

    async list(actor: Actor, q: ListReferralsQuery, ctx: RequestContext) {
      if (actor.role === 'partner') refuseStaffFilters(q);
      const filter = {
        requesterId: q.mine ? actor.id : undefined,
        status: q.status,
        personId: q.personId,
        partnerId: q.partnerId,
        page: q.page,
        pageSize: q.pageSize,
      };
      // What was read is filed under the structure it belongs to. A partner's inbox spans the
      // structures that referred: one event under each, so that each structure's audit shows who
      // read its people (nothing shown: one event, under no structure).
      let res: { items: (Referral | PartnerReferral)[]; total: number };
      const readUnder = new Map<string | null, string[]>();
      if (actor.role === 'partner') {
        const { referredBy, ...page } = await referrals.listForPartner(
          knex,
          actor.partnerId ?? '',
          filter,
          clock.now(),
        );
        res = page;
        for (const r of page.items) {
          const structureId = referredBy.get(r.id) ?? null;
          readUnder.set(structureId, [...(readUnder.get(structureId) ?? []), r.id]);
        }
        if (readUnder.size === 0) readUnder.set(null, []);
      } else {
        res = await referrals.listForStaff(knex, actor.structureId, filter);
        readUnder.set(
          actor.structureId,
          res.items.map((r) => r.id),
        );
      }
      for (const [structureId, ids] of readUnder) {
        await audit.record(knex, {
          actor,
          structureId,
          action: 'referral.list',
          subjectType: 'referral',
          ip: ctx.ip,
          details: { ids },
        });
      }
      return { ...res, page: q.page, pageSize: q.pageSize } as Page<Referral | PartnerReferral>;
    },

    /**
     * Who acts in the requester's name on a referral of the actor's structure, for the staff
     * page: it offers the cancellation and the re-sent link by the service's own rule
     * (`actsForRequester`). 404 outside the actor's structure.
     */
    async requesterSide(actor: Actor, id: string): Promise<RequesterSide> {
      const row = PERSON_ROLES.includes(actor.role)
        ? await referrals.rowForStaff(knex, actor.structureId, id)
        : undefined;
      if (!row) throw new NotFoundError('Referral');
      return requesterSideOf(knex, actor, row);
    },

    async get(actor: Actor, id: string, ctx: RequestContext) {
      const view = await viewFor(knex, actor, id);
      const row = await referrals.findRow(knex, id);
      await audit.record(knex, {
        actor,
        structureId: row?.structureId ?? null,
        action: 'referral.read',
        subjectType: 'referral',
        subjectId: id,
        ip: ctx.ip,
      });
      return view;
    },

    async transition(actor: Actor, id: string, input: TransitionInput, ctx: RequestContext) {
      // The referral's structure, known once it was found in scope: a partner's view lacks it.
      let structureId: string | null = null;
      const write = () =>
        uow(async (trx, outbox) => {
          const row = await lockInScope(trx, actor, id);
          structureId = row.structureId;
          await authorise(trx, actor, row, input.to);
          // The row is locked: of two callers who saw one version, the second sees the first's move.
          await checkVersion(
            input.version,
            row.version,
            'This referral was changed meanwhile; reload it',
            () => viewFor(trx, actor, id),
          );
          const from = row.status;
          await apply(trx, outbox, row, input.to, { kind: 'user', actor }, input);
          await audit.record(trx, {
            actor,
            structureId: row.structureId,
            action: 'referral.transition',
            subjectType: 'referral',
            subjectId: id,
            ip: ctx.ip,
            details: { from, to: input.to },
          });
          return viewFor(trx, actor, id);
        });
      // The referral handed back with a stale version's 409 is a read (person name, reason, …).
      return audit.conflictRead(knex, write, () => ({
        actor,
        structureId,
        action: 'referral.read',
        subjectType: 'referral',
        subjectId: id,
        ip: ctx.ip,
        details: { reason: 'conflict' },
      }));
    },

    /**
     * Sends the partner a fresh link now, for a partner without an account whose links expired
     * or went astray: while the referral is requested a reminder (respond link), while the help
     * is under way the outcome question (outcome link); each email carries a link of its own,
     * 8 days from its sending. The deadline goes through the outbox, due at the next working
     * moment, as every message to a partner. The requester, a manager, or the référent standing
     * in for a requester who left only (`actsForRequester`); 422 when there
     * is nothing to ask (the referral ended) or the email would be skipped (reminders off for
     * the file, the partner's consent lapsed).
     */
    async resendLink(
      actor: Actor,
      id: string,
      ctx: RequestContext,
    ): Promise<{ purpose: LinkPurpose; dueAt: Date }> {
      return uow(async (trx, outbox) => {
        const row = await lockInScope(trx, actor, id);
        if (!actsForRequester(actor, await requesterSideOf(trx, actor, row))) {
          throw new ForbiddenError(
            'Only the requester, a manager, or the référent standing in for a requester who left can send the link again',
          );
        }
        const purpose = linkPurposeFor(row.status);
        if (!purpose) {
          throw new BusinessRuleError(
            'referral_closed',
            `A ${row.status} referral waits for nothing from the partner: there is no link to send`,
          );
        }
        const now = clock.now();
        // The partner's reminder and outcome emails are skipped for such a file (remindersOff).
        const off = remindersOff(await persons.lock(trx, row.structureId, row.personId));
        if (off) {
          throw new BusinessRuleError(
            'reminders_off',
            `No email would leave: ${off}; resume the person's reminders first`,
          );
        }
        if (!(await referrals.partnerMaySee(trx, row.id, now))) {
          throw new BusinessRuleError(
            'consent_expired',
            "The person's consent for this partner has expired; record a new consent first",
          );
        }
        const { calendar } = await rulesOf(trx, row.structureId);
        const dueAt = calendar.nextWorkingMoment(now);
        await outbox.schedule({
          structureId: row.structureId,
          kind: REFERRAL_RESEND_LINK,
          subjectType: 'referral',
          subjectId: row.id,
          dueAt,
        });
        await audit.record(trx, {
          actor,
          structureId: row.structureId,
          action: 'referral.resend_link',
          subjectType: 'referral',
          subjectId: id,
          ip: ctx.ip,
          details: { purpose, dueAt: dueAt.toISOString() },
        });
        return { purpose, dueAt };
      });
    },

    /**
     * Referrals another feature cancelled on its own, in its transaction (the retention, which
     * anonymises a file and cancels its open referrals with it): the partner is told as for any
     * withdrawal.
     */
    tellPartnerCancelled: withdrawal.tellCancelled,

    /**
     * Revoking a referral consent cancels every open referral of the person to that partner
     * (requested, accepted, in progress, on hold), whichever consent it was made under.
     */
    async cancelForRevokedConsent(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      actor: Actor,
      pair: { personId: string; partnerId: string },
    ): Promise<string[]> {
      const rows = await referrals.lockForPair(
        trx,
        { structureId: actor.structureId, ...pair },
        OPEN_STATUSES,
      );
      for (const row of rows) {
        await apply(
          trx,
          outbox,
          row,
          'cancelled',
          {
            kind: 'system',
            reasonCode: SYSTEM_REASONS.consentRevoked,
            actor,
          },
          {},
        );
      }
      return rows.map((r) => r.id);
    },

    /**
     * 'referral.escalate_requester': the partner's answer delay ended without an answer; the
     * requester is told in-app, so they can call the partner before the referral expires (a
     * requester who left: the référent or the managers in their stead), unless reminders are off
     * for the person (paused, or the file closed or anonymised). The
     * notification's unique key (recipient, kind, subject, the deadline's due moment) makes a
     * second run a no-op.
     */
    async escalateToRequester(trx: Knex.Transaction, deadline: Deadline): Promise<DeadlineOutcome> {
      const row = await referrals.escalationContext(trx, deadline.structureId, deadline.subjectId);
      if (!row) return skipped('referral not found');
      if (row.status !== 'requested') return skipped(`referral is ${row.status}`);
      // An automatic message about the person, off for a paused, closed or anonymised file.
      const off = remindersOff(row);
      if (off) return skipped(off);
      // The requester, or once they have left, the référent or the managers in their stead.
      const recipients = await requesterOrStandIns(
        trx,
        deadline.structureId,
        row.requesterId,
        async () => row.referentId,
      );
      if (!recipients.length) return skipped('nobody to tell: no active requester');

      const { calendar } = await rulesOf(trx, deadline.structureId);
      const days = businessDaysBetween(calendar, row.createdAt, deadline.dueAt);
      // The title names the partner and the delay, never the person: it may go out by email.
      for (const recipientId of recipients) {
        await notifications.notifyInTransaction(trx, {
          structureId: deadline.structureId,
          recipientId,
          kind: REFERRAL_ESCALATED_NOTICE,
          subjectType: 'referral',
          subjectId: row.id,
          dueMoment: deadline.dueAt,
          title: `Orientation vers ${row.partnerName} sans réponse depuis ${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'}`,
          link: `/orientations/${row.id}`,
        });
      }
      return done();
    },

    /**
     * 'referral.expire': the referral expires (`expire`), after what was due with it. When
     * `referralExpiryDays` equals `referralResponseDays` the expiry falls at the very moment of
     * the last reminder to the partner and the escalation to the requester, and their jobs run in
     * no set order: an expiry first would cancel them. So while a reminder or the escalation due
     * at the expiry's moment, or in the hour before it (a moved expiry keeps waiting for them,
     * minute after minute, up to EXPIRY_WAIT_LIMIT_MS), still waits for its first run (queued,
     * or running now), the expiry moves EXPIRY_WAIT_MS later (`outbox.reschedule`, as a message held out of working hours is
     * moved) and this row ends skipped. One that has failed already is not waited for (its
     * retries may last hours): the expiry cancels it, as any move out of `requested` does.
     */
    async expireDue(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (
        await outboxIn(trx).firstRunDueWith(
          deadline,
          [REFERRAL_REMIND_PARTNER, REFERRAL_RESEND_LINK, REFERRAL_ESCALATE_REQUESTER],
          EXPIRY_WAIT_LIMIT_MS,
        )
      ) {
        const later = new Date(now.getTime() + EXPIRY_WAIT_MS);
        const moved = await outboxIn(trx).reschedule(deadline.id, later);
        return skipped(
          `after the reminder and escalation due with it: moved to ${later.toISOString()}${moved ? ` (deadline ${moved})` : ''}`,
        );
      }
      return (await expire(trx, deadline.subjectId))
        ? done()
        : skipped('referral already answered or closed');
    },

    expire,

    /**
     * 'referral.outcome_follow_up', closing the loop (spec section 3) beside the outcome question
     * sent to the partner: the person's referent (else the requester) gets a follow-up, due now,
     * to update the person's right. Runs in its own deadline's transaction, never in the email's
     * (which holds its transaction through the SMTP send); skipped once planned, when the
     * referral is no longer accepted, in progress or on hold, or when the file is closed or
     * anonymised (a paused file still gets it: a task, not a message).
     */
    async planOutcomeFollowUp(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      const row = await lockForMove(trx, deadline.subjectId);
      if (!row || row.structureId !== deadline.structureId) return skipped('referral not found');
      if (!UNDER_WAY_STATUSES.includes(row.status)) return skipped(`referral is ${row.status}`);
      const person = await persons.lock(trx, row.structureId, row.personId);
      const off = fileNotFollowed(person);
      if (off) return skipped(off);
      const partnerName = await partners.nameOf(trx, row.partnerId);
      const label = await servedRightLabel(trx, row);
      const planned = await planStaffFollowUp(
        trx,
        outboxIn(trx),
        row,
        'update_right',
        [person!.referentId, row.requesterId],
        {
          // Names the partner (and the right served), never the person: the due notification
          // may go out by email.
          title: `${label ? `Mettre à jour le droit « ${label} »` : 'Mettre à jour les droits'} : l'aide ${partnerName ? `de ${partnerName}` : 'du partenaire'} a-t-elle abouti ?`,
          dueAt: now,
        },
      );
      return planned ? done() : skipped('follow-up already planned or nobody to assign it to');
    },

    /**
     * How many open referrals a user requested: their answers and outcomes go to them, or once
     * they have left to their stand-ins (`requesterOrStandIns`).
     */
    openRequestedCount: (db: Knex | Knex.Transaction, structureId: string, userId: string) =>
      referrals.countOpenRequestedBy(db, structureId, userId),

    /** Timeline items of a person's referrals (staff view). */
    async forPerson(db: Knex, actor: Actor, personId: string): Promise<Referral[]> {
      return referrals.allForPerson(db, actor.structureId, personId);
    },
  };
}

export type ReferralService = ReturnType<typeof createReferralService>;

/**
 * A partner's list is its organisation's referrals, by status: the staff filters (a person, a
 * partner, the requester's own) mean nothing there, and ignoring them would answer a question
 * the caller did not ask. Each is a 400 naming it, as an unknown filter is.
 */
function refuseStaffFilters(q: ListReferralsQuery): void {
  const given = [
    q.personId !== undefined && 'personId',
    q.partnerId !== undefined && 'partnerId',
    q.mine === true && 'mine',
  ].filter((f): f is string => Boolean(f));
  if (!given.length) return;
  const message = 'is not a filter of a partner user’s referral list';
  throw new ValidationError(
    `Invalid query parameter: ${given[0]}: ${message}`,
    given.map((field) => ({ field, message })),
  );
}
