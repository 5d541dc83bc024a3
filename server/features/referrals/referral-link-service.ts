import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { ValidationError } from '../../lib/errors';
import { sendDeadlineEmail, type Mailer, type SentEmailLog } from '../../lib/mailer';
import type { Deadline, UnitOfWork } from '../deadlines/outbox';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import {
  LINK_PURPOSE_OF,
  partnerEmail,
  partnerWithdrawnEmail,
  type PartnerEmailKind,
} from './referral-emails';
import { type AuditTrail } from '../audit/audit-trail';
import { remindersOff } from '../persons/person-reminders';
import type { PartnerReferral, ReferralRepository, ReferralRecord } from './referral-repository';
import type { ReferralService } from './referral-service';
import { UNDER_WAY_STATUSES, type ReferralStatus } from './referral-state';
import {
  LINK_LIFETIME_MS,
  LINK_PATH_PREFIX,
  TOKEN_PATTERN,
  hashToken,
  linkTokenFor,
  type LinkPurpose,
  type ReferralLink,
} from './referral-link-tokens';

import type { ReferralLinkRepository } from './referral-link-repository';

/** What each kind of link may do, and from which statuses. */
export const LINK_ACTIONS = {
  respond: { from: ['requested'], actions: { accept: 'accepted', reject: 'rejected' } },
  outcome: {
    from: UNDER_WAY_STATUSES,
    actions: { complete: 'completed', fail: 'failed' },
  },
} as const satisfies Record<
  LinkPurpose,
  { from: readonly ReferralStatus[]; actions: Record<string, ReferralStatus> }
>;

/**
 * What the partner is asked by signed link while a referral is in this status (an answer while
 * it is requested, the outcome while the help is under way), or null once it ended: the link a
 * structure may send again.
 */
export function linkPurposeFor(status: ReferralStatus): LinkPurpose | null {
  const purposes = Object.keys(LINK_ACTIONS) as LinkPurpose[];
  return purposes.find((p) => (LINK_ACTIONS[p].from as readonly string[]).includes(status)) ?? null;
}

/** The email a link sent again is, by the purpose the referral's status asks for. */
const RESENT_EMAIL: Record<LinkPurpose | 'none', PartnerEmailKind | null> = {
  respond: 'remind',
  outcome: 'outcome',
  none: null,
};

export type GoneReason = 'expired' | 'used' | 'closed';

export type LinkState =
  | { kind: 'not_found' }
  | { kind: 'gone'; reason: GoneReason }
  | { kind: 'open'; purpose: LinkPurpose; expiresAt: Date; referral: PartnerReferral };

type AnswerResult =
  | { kind: 'not_found' }
  | { kind: 'gone'; reason: GoneReason }
  | { kind: 'invalid'; error: ValidationError; state: LinkState }
  /**
   * The move applied, with the partner's view of the referral as it now stands (read in the
   * answer's transaction): a volunteer without an account who accepted keeps the person's
   * contact details on the page, since the spent link will not show them again.
   */
  | { kind: 'done'; status: ReferralStatus; referral: PartnerReferral | null };

/**
 * Partners without an account answer through a single-purpose link. A link works while it has
 * not expired, has not been used and its referral is still in a status it acts on; every use
 * (view, answer, refusal, rate-limited hit) leaves an audit event without the token.
 */
export function createReferralLinkService(deps: {
  knex: Knex;
  uow: UnitOfWork;
  referrals: ReferralRepository;
  referralService: Pick<ReferralService, 'apply' | 'lockForMove'>;
  clock: Clock;
  links: ReferralLinkRepository;
  mailer: Pick<Mailer, 'send'>;
  sentEmails: SentEmailLog;
  /** LINK_SECRET: the links' tokens are derived from it and the deadline's id. */
  linkSecret: string;
  publicUrl: string;
  audit: AuditTrail;
}) {
  const { audit: trail } = deps;
  const { links, sentEmails } = deps;
  const { knex, uow, referrals, referralService, clock } = deps;

  /**
   * Why a link no longer acts, most telling first: a referral answered or closed meanwhile, or
   * out of the partner's scope (consent revoked or expired), says so even once the link has
   * expired, so a volunteer opening it weeks later after a colleague answered is told it was
   * answered, not to ask for a link the structure could not send.
   */
  function goneReason(
    link: ReferralLink,
    row: ReferralRecord,
    now: Date,
    partnerMaySee: boolean,
  ): GoneReason | null {
    if (link.usedAt) return 'used';
    if (!(LINK_ACTIONS[link.purpose].from as readonly string[]).includes(row.status))
      return 'closed';
    if (!partnerMaySee) return 'closed';
    if (now >= link.expiresAt) return 'expired';
    return null;
  }

  async function audit(
    db: Knex | Knex.Transaction,
    action: string,
    ip: string | null,
    link: ReferralLink | null,
    row: ReferralRecord | null | undefined,
    details: Record<string, unknown> = {},
  ) {
    await trail.record(db, {
      actor: null,
      structureId: row?.structureId ?? null,
      action,
      subjectType: link ? 'referral' : 'referral_link',
      subjectId: link?.referralId ?? null,
      ip,
      details: { ...(link ? { linkId: link.id, purpose: link.purpose } : {}), ...details },
    });
  }

  /** What a token opens on at `now`, without leaving a trace (the callers audit). */
  async function lookup(
    token: string,
  ): Promise<{ link: ReferralLink | null; row: ReferralRecord | null; state: LinkState }> {
    const link = TOKEN_PATTERN.test(token) ? await links.findByHash(knex, hashToken(token)) : null;
    if (!link) return { link: null, row: null, state: { kind: 'not_found' } };
    const row = (await referrals.findRow(knex, link.referralId)) ?? null;
    const now = clock.now();
    const gone = row
      ? goneReason(link, row, now, await referrals.partnerMaySee(knex, row.id, now))
      : 'closed';
    if (gone || !row) return { link, row, state: { kind: 'gone', reason: gone ?? 'closed' } };
    const view = await referrals.findForPartner(knex, row.partnerId, row.id, now);
    if (!view) return { link, row, state: { kind: 'gone', reason: 'closed' } };
    return {
      link,
      row,
      state: { kind: 'open', purpose: link.purpose, expiresAt: link.expiresAt, referral: view },
    };
  }

  const refusalReason = (state: LinkState) =>
    state.kind === 'not_found' ? 'unknown' : state.kind === 'gone' ? state.reason : null;

  return {
    /**
     * 'referral.email_partner' (respond link), 'referral.remind_partner' (respond link again, at
     * the SLA's reminder days) and 'referral.ask_outcome' (outcome link): one email to the
     * partner's address with a signed, single-purpose link, fresh for each deadline.
     * 'referral.resend_link' (`resend`, a link a user sent again) is the reminder while the
     * referral is requested and the outcome question while the help is under way, as its status
     * reads when it is sent; its token comes from its own deadline.
     *
     * Delivery is at-least-once with a dedupe key. The send happens inside the deadline's
     * transaction, then `sent_emails` (unique per deadline) and the deadline's status commit
     * together. A crash between the SMTP hand-off and the commit makes BullMQ redeliver the job,
     * which sends again: the same Message-ID (derived from the deadline id) lets mail systems
     * drop the duplicate, and the same link (its token is derived from the deadline id too)
     * still works. The deadline row lock keeps two concurrent deliveries from both sending.
     */
    async sendPartnerEmail(
      email: PartnerEmailKind | 'resend',
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const row = await referrals.emailContext(trx, deadline.structureId, deadline.subjectId);
      if (!row) return skipped('referral not found');
      const kind: PartnerEmailKind | null =
        email !== 'resend' ? email : RESENT_EMAIL[linkPurposeFor(row.status) ?? 'none'];
      if (!kind) return skipped(`referral is ${row.status}`);
      const purpose = LINK_PURPOSE_OF[kind];
      if (!(LINK_ACTIONS[purpose].from as readonly string[]).includes(row.status))
        return skipped(`referral is ${row.status}`);
      // The first request answers a worker's action; the reminder and the outcome question are
      // automatic messages about the person, off for a paused, closed or anonymised file.
      const off = kind === 'respond' ? null : remindersOff(row);
      if (off) return skipped(off);
      // A consent expired meanwhile: the link would open on nothing the partner may see.
      if (!(await referrals.partnerMaySee(trx, row.id, now)))
        return skipped('no standing consent for this partner');

      const token = linkTokenFor(deps.linkSecret, deadline.id, purpose);
      const expiresAt = new Date(now.getTime() + LINK_LIFETIME_MS);
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        partnerEmail(kind, {
          to: row.partnerEmail,
          partnerName: row.partnerName,
          structureName: row.structureName,
          serviceName: row.serviceName,
          url: `${deps.publicUrl}${LINK_PATH_PREFIX}${token}`,
          expiresAt,
          messageId,
        }),
      );
      // A new address confirmed while this email was on its way expired the links sent to the
      // old one before this one was written: written now, it is born expired. The partner row's
      // lock (after the send) orders this with a confirmation under way.
      const stillTo = (await links.partnerEmailNow(trx, row.id)) === row.partnerEmail;
      // Written after the SMTP hand-off, in the job's transaction, which commits right after:
      // its foreign key locks the referral row (KEY SHARE), and a move on the referral must not
      // wait for a slow send. Nothing before the send locks the person or the referral. Never on
      // the global knex here (the embedded database has one connection, and this transaction
      // holds it). A failed send leaves nothing; the retry writes the same token again.
      await links.insertOnce(trx, {
        referralId: row.id,
        tokenHash: hashToken(token),
        purpose,
        expiresAt: stillTo ? expiresAt : now,
        at: now,
      });
      return done();
    },

    /**
     * 'referral.email_withdrawn': a referral was cancelled (by the requester or a manager, or by
     * a consent revoked); the partner's address is told that the structure withdrew it and that
     * what it was given must no longer be used. Nothing about the person, so it goes whatever the
     * file's reminders or the consent say; skipped when the partner never heard of the referral
     * (cancelled before its first email went, unanswered). At least once with a dedupe key, as
     * the other partner emails.
     */
    async sendWithdrawnEmail(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const row = await referrals.withdrawalContext(trx, deadline.structureId, deadline.subjectId);
      if (!row) return skipped('referral not found');
      if (row.status !== 'cancelled') return skipped(`referral is ${row.status}`);
      if (!row.partnerTold) return skipped('the partner never heard of this referral');
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        partnerWithdrawnEmail({
          to: row.partnerEmail,
          partnerName: row.partnerName,
          structureName: row.structureName,
          serviceName: row.serviceName,
          requestedAt: row.createdAt,
          messageId,
        }),
      );
      return done();
    },

    /**
     * The partner's address changed (in the confirmation's transaction): the links already sent
     * to the old address, not used yet, stop working now and answer 'expired'. A referral still
     * waiting gets fresh links at the new address with its pending reminders, each email
     * carrying a link of its own; the partner's staff answer from their inbox meanwhile.
     */
    expireForPartner(trx: Knex.Transaction, partnerId: string, now: Date): Promise<number> {
      return links.expireUnusedOfPartner(trx, partnerId, now);
    },

    async inspect(token: string, ip: string | null): Promise<LinkState> {
      const { link, row, state } = await lookup(token);
      const reason = refusalReason(state);
      if (reason) await audit(knex, 'referral_link.refused', ip, link, row, { reason });
      else await audit(knex, 'referral_link.view', ip, link, row);
      return state;
    },

    /**
     * An answer that cannot be applied (no action, a missing reason, another link's action):
     * refused and audited on its own, outside the answer's transaction, which rolled back.
     * Returns the link's state to show the form again, without counting it as a view.
     */
    async refuseAnswer(token: string, ip: string | null, field: string): Promise<LinkState> {
      const { link, row, state } = await lookup(token);
      await audit(knex, 'referral_link.refused', ip, link, row, {
        reason: refusalReason(state) ?? 'invalid_answer',
        field,
      });
      return state;
    },

    /** A hit the per-IP limit turned away: no lookup, no token, only where it came from. */
    async refuseRateLimited(ip: string | null): Promise<void> {
      await audit(knex, 'referral_link.refused', ip, null, null, { reason: 'rate_limited' });
    },

    async answer(
      token: string,
      input: { action: string; reason?: string; outcome?: string },
      ip: string | null,
    ): Promise<AnswerResult> {
      if (!TOKEN_PATTERN.test(token)) {
        await audit(knex, 'referral_link.refused', ip, null, null, { reason: 'unknown' });
        return { kind: 'not_found' };
      }
      try {
        return await uow(async (trx, outbox) => {
          // The link row lock serialises two submissions of the same link: the second sees it used.
          const link = await links.lockByHash(trx, hashToken(token));
          if (!link) {
            await audit(trx, 'referral_link.refused', ip, null, null, { reason: 'unknown' });
            return { kind: 'not_found' } as const;
          }
          const row = await referralService.lockForMove(trx, link.referralId);
          const now = clock.now();
          // Out of the partner's scope (consent revoked or expired), the link acts no more.
          const gone = !row
            ? 'closed'
            : goneReason(link, row, now, await referrals.partnerMaySee(trx, row.id, now));
          if (gone || !row) {
            await audit(trx, 'referral_link.refused', ip, link, row, { reason: gone });
            return { kind: 'gone', reason: gone ?? 'closed' } as const;
          }
          const actions = LINK_ACTIONS[link.purpose].actions as Record<string, ReferralStatus>;
          const to = Object.hasOwn(actions, input.action) ? actions[input.action] : undefined;
          if (!to) {
            throw new ValidationError('Invalid body: action: not possible with this link', [
              { field: 'action', message: `must be one of ${Object.keys(actions).join(', ')}` },
            ]);
          }
          // A reason given with an answer that takes none (accept, complete) is refused by the
          // state machine (400 reason, code not_taken), as through the API.
          await referralService.apply(
            trx,
            outbox,
            row,
            to,
            { kind: 'link', linkId: link.id },
            { reason: input.reason || undefined, outcome: input.outcome || undefined },
          );
          await links.markUsed(trx, link.id, now);
          await audit(trx, 'referral_link.use', ip, link, row, { from: row.status, to });
          const referral = await referrals.findForPartner(trx, row.partnerId, row.id, now);
          return { kind: 'done', status: to, referral } as const;
        });
      } catch (err) {
        if (err instanceof ValidationError) {
          const field = (err.details as { field: string }[] | undefined)?.[0]?.field ?? 'action';
          return { kind: 'invalid', error: err, state: await this.refuseAnswer(token, ip, field) };
        }
        throw err;
      }
    },
  };
}

export type ReferralLinkService = ReturnType<typeof createReferralLinkService>;
