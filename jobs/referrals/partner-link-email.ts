import {
  LINK_PURPOSE_OF,
  partnerEmail,
  type PartnerEmailKind,
} from '../../server/features/referrals/referral-emails';
import { LINK_ACTIONS } from '../../server/features/referrals/referral-link-service';
import {
  LINK_LIFETIME_MS,
  LINK_PATH_PREFIX,
  hashToken,
  linkTokenFor,
  referralLinkRepository,
} from '../../server/features/referrals/referral-link-tokens';
import { sentEmailRepository } from '../../server/features/referrals/sent-email-repository';
import { done, skipped, type Processor } from '../processor';

/**
 * 'referral.email_partner' (respond link), 'referral.remind_partner' (respond link again, at the
 * SLA's reminder days) and 'referral.ask_outcome' (outcome link): one email to the partner's
 * address with a signed, single-purpose link, fresh for each deadline.
 *
 * Delivery is at-least-once with a dedupe key. The send happens inside the deadline's
 * transaction, then `sent_emails` (unique per deadline) and the deadline's status commit
 * together. A crash between the SMTP hand-off and the commit makes BullMQ redeliver the job,
 * which sends again: the same Message-ID (derived from the deadline id) lets mail systems drop
 * the duplicate, and the same link (its token is derived from the deadline id too) still works.
 * The deadline row lock keeps two concurrent deliveries from both sending.
 */
function partnerLinkEmail(kind: PartnerEmailKind): Processor {
  const purpose = LINK_PURPOSE_OF[kind];
  return async ({ deadline, trx, deps, now }) => {
    if (await sentEmailRepository.wasSent(trx, deadline.id)) return skipped('email already sent');
    const row = await deps.repos.referrals.emailContext(
      trx,
      deadline.structureId,
      deadline.subjectId,
    );
    if (!row) return skipped('referral not found');
    if (!(LINK_ACTIONS[purpose].from as readonly string[]).includes(row.status))
      return skipped(`referral is ${row.status}`);
    // The first request answers a worker's action; the reminder and the outcome question are
    // automatic messages about the person, which pauseReminders stops.
    if (kind !== 'respond' && row.pauseReminders)
      return skipped('reminders paused for this person');
    // A consent expired meanwhile: the link would open on nothing the partner may see.
    if (!(await deps.repos.referrals.partnerMaySee(trx, row.id, now)))
      return skipped('no standing consent for this partner');

    const token = linkTokenFor(deps.config.LINK_SECRET, deadline.id, purpose);
    const expiresAt = new Date(now.getTime() + LINK_LIFETIME_MS);
    const host = new URL(deps.config.publicUrl).hostname || 'aller-vers.local';
    const messageId = `<deadline-${deadline.id}@${host}>`;
    await deps.mailer.send(
      partnerEmail(kind, {
        to: row.partnerEmail,
        partnerName: row.partnerName,
        structureName: row.structureName,
        serviceName: row.serviceName,
        url: `${deps.config.publicUrl}${LINK_PATH_PREFIX}${token}`,
        expiresAt,
        messageId,
      }),
    );
    // Written after the SMTP hand-off, in the job's transaction, which commits right after:
    // its foreign key locks the referral row (KEY SHARE), and a move on the referral must not
    // wait for a slow send. Nothing before the send locks the person or the referral. Never on
    // the global knex here (the embedded database has one connection, and this transaction
    // holds it). A failed send leaves nothing; the retry writes the same token again.
    await referralLinkRepository.insertOnce(trx, {
      referralId: row.id,
      tokenHash: hashToken(token),
      purpose,
      expiresAt,
      at: now,
    });
    await sentEmailRepository.record(trx, {
      deadlineId: deadline.id,
      structureId: deadline.structureId,
      kind: deadline.kind,
      messageId,
      at: now,
    });
    return done();
  };
}

export const referralEmailPartner = partnerLinkEmail('respond');
export const referralRemindPartner = partnerLinkEmail('remind');
/**
 * 'referral.ask_outcome', 10 business days after the partner accepted (spec section 3, closing
 * the loop): the outcome question to the partner. The referent's follow-up is the sibling kind
 * 'referral.outcome_follow_up' (outcome-follow-up.ts), due at the same moment.
 */
export const referralAskOutcome = partnerLinkEmail('outcome');
