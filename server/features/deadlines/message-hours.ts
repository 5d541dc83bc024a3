import type { Knex } from 'knex';
import type { BusinessCalendar } from '../../lib/calendar';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_EMAIL_WITHDRAWN,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
} from '../referrals/referral-schemas';
import { PARTNER_EMAIL_CHANGED } from '../partners/partner-email-changes';
import type { SettingsService } from '../settings/settings-service';
import { skipped, type DeadlineOutcome } from './deadline-outcome';
import type { Deadline, OutboxIn } from './outbox';

/**
 * The kinds whose effect is a message to a partner (or a person), which spec section 3 keeps
 * within working hours. Not listed: the messages that answer a user's action at once (a
 * set-password link, the link confirming a partner's new address, valid 48 hours: held over a
 * weekend it would arrive expired), and the in-app notices and emails to staff. The digest email
 * of a partner user is a message of the day: the digest service skips it out of hours instead
 * (`isWorkingMoment`), the next working day's digest telling the same.
 */
export const MESSAGE_KINDS: readonly string[] = [
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_WITHDRAWN,
  PARTNER_EMAIL_CHANGED,
];

export interface MessageHoursDeps {
  settings: Pick<SettingsService, 'rulesOf'>;
  outboxIn: OutboxIn;
}

/**
 * Working hours at send time. Planning places messages in working hours, but a message may still
 * be delivered late (a retry after an SMTP outage, a re-armed job, an administrator's retry, a
 * worker back after a stop): whatever made it late, it is held here, in the one place every
 * deadline passes through (jobs/processor.ts), with the structure's own calendar.
 */
export function createMessageHours({ settings, outboxIn }: MessageHoursDeps) {
  async function calendarOf(db: Knex | Knex.Transaction, structureId: string) {
    return (await settings.rulesOf(db, structureId)).calendar;
  }

  return {
    /** Whether `at` is within the structure's working hours. */
    async isWorkingMoment(
      db: Knex | Knex.Transaction,
      structureId: string,
      at: Date,
    ): Promise<boolean> {
      return (await calendarOf(db, structureId)).isWorkingMoment(at);
    },

    /**
     * A message deadline processed outside the structure's working hours sends nothing: it is
     * moved to the next working moment as the replanners move deadlines (`outbox.reschedule`: a
     * pending copy at the new moment, which the relay enqueues; this row ends skipped, with where
     * it went). Null when the deadline may run now.
     */
    async holdUntilWorkingHours(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome | null> {
      if (!MESSAGE_KINDS.includes(deadline.kind)) return null;
      const calendar: BusinessCalendar = await calendarOf(trx, deadline.structureId);
      if (calendar.isWorkingMoment(now)) return null;
      const next = calendar.nextWorkingMoment(now);
      const moved = await outboxIn(trx).reschedule(deadline.id, next);
      return skipped(
        `outside working hours: moved to ${next.toISOString()}${moved ? ` (deadline ${moved})` : ''}`,
      );
    },
  };
}

export type MessageHours = ReturnType<typeof createMessageHours>;
