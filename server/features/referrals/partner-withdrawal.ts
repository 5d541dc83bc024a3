import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import type { OutboxWriter } from '../deadlines/outbox';
import type { NotificationService } from '../notifications/notification-service';
import type { PartnerDirectory } from '../partners/partner-service';
import type { SettingsService } from '../settings/settings-service';
import { withdrawnReferralSentence } from './referral-emails';
import type { ReferralRecord, ReferralRepository } from './referral-repository';
import { REFERRAL_EMAIL_WITHDRAWN } from './referral-schemas';

export interface PartnerWithdrawalDeps {
  clock: Clock;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  partners: Pick<PartnerDirectory, 'activeStaffIds'>;
  referrals: Pick<ReferralRepository, 'withdrawalContext' | 'partnerMaySee' | 'rowForStaff'>;
  settings: Pick<SettingsService, 'rulesOf'>;
}

/**
 * Telling a partner that a referral addressed to it was withdrawn: the referral service's, for
 * every cancellation it makes, and the retention's, whose anonymisation cancels a file's open
 * referrals (built apart so that the retention command, without the whole container, tells the
 * partner the same way).
 */
export function createPartnerWithdrawal(deps: PartnerWithdrawalDeps) {
  const { clock, notifications, partners, referrals, settings } = deps;

  /**
   * A referral withdrawn (by the requester or a manager, or by a consent revoked): the partner
   * may be acting on it, a volunteer calling the person. Its active staff are told in the app,
   * and its address by email at the next working moment (`referral.email_withdrawn`, held to
   * working hours as every message to a partner), that the structure withdrew the request and
   * that what was shared must no longer be used. Both say which referral it was (the structure,
   * the service and the day it was asked: `withdrawalContext`, `withdrawnReferralSentence`),
   * never the person (nor why: a consent withdrawn is the person's business); the notice links
   * to the referral while the partner still sees it (not after a consent revoked).
   */
  async function tell(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    row: ReferralRecord,
    now: Date,
  ): Promise<void> {
    const recipients = await partners.activeStaffIds(trx, row.partnerId);
    // Read in this transaction: the referral exists, the row was locked to cancel it.
    const context = await referrals.withdrawalContext(trx, row.structureId, row.id);
    if (recipients.length > 0 && context) {
      const title = withdrawnReferralSentence({ ...context, requestedAt: context.createdAt });
      const link = (await referrals.partnerMaySee(trx, row.id, now))
        ? `/orientations/${row.id}`
        : null;
      for (const recipientId of recipients) {
        await notifications.notifyInTransaction(trx, {
          structureId: row.structureId,
          recipientId,
          kind: 'referral.cancelled',
          subjectType: 'referral',
          subjectId: row.id,
          dueMoment: now,
          title,
          link,
          body: 'La structure a retiré cette demande : les informations transmises sur la personne ne doivent plus être utilisées ; ne la contactez plus à ce titre.',
        });
      }
    }
    const { calendar } = await settings.rulesOf(trx, row.structureId);
    await outbox.schedule({
      structureId: row.structureId,
      kind: REFERRAL_EMAIL_WITHDRAWN,
      subjectType: 'referral',
      subjectId: row.id,
      dueAt: calendar.nextWorkingMoment(now),
    });
  }

  return {
    tell,
    /** The same for referrals of the structure cancelled by another feature, in its transaction. */
    async tellCancelled(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      structureId: string,
      ids: readonly string[],
    ): Promise<void> {
      const now = clock.now();
      for (const id of ids) {
        const row = await referrals.rowForStaff(trx, structureId, id);
        if (row?.status === 'cancelled') await tell(trx, outbox, row, now);
      }
    },
  };
}

export type PartnerWithdrawal = ReturnType<typeof createPartnerWithdrawal>;
