import type { ReferralRepository } from './referral-repository';
import type { DeadlineReplanner } from '../settings/settings-service';
import {
  expiryBusinessDays,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
  reminderBusinessDays,
  responseDelayOf,
} from './referral-schemas';

/**
 * A referral's deadlines as the structure's settings place them, counted from when it was sent
 * (or accepted, for closing the loop), exactly as the referral service plans them. The partner's
 * reminders are matched from the last: the last pending one is the reminder at the delay's end.
 */
export const referralReplanner = (
  referrals: Pick<ReferralRepository, 'replanAnchors'>,
): DeadlineReplanner => ({
  kinds: [
    REFERRAL_EMAIL_PARTNER,
    REFERRAL_REMIND_PARTNER,
    REFERRAL_ESCALATE_REQUESTER,
    REFERRAL_EXPIRE,
    REFERRAL_ASK_OUTCOME,
    REFERRAL_OUTCOME_FOLLOW_UP,
  ],
  async replan(trx, pending, settings, calendar) {
    const out = new Map<string, Date>();
    const referralIds = [
      ...new Set(pending.filter((d) => d.subjectType === 'referral').map((d) => d.subjectId)),
    ];
    const anchors = await referrals.replanAnchors(trx, referralIds);
    for (const id of referralIds) {
      const a = anchors.get(id);
      if (!a) continue;
      const delay = responseDelayOf(a.serviceDelay, settings.referralResponseDays);
      const sla = (days: number) =>
        calendar.nextWorkingMoment(calendar.addBusinessDays(a.sentAt, days));
      const mine = pending.filter((d) => d.subjectId === id);
      const reminders = reminderBusinessDays(delay).map(sla);
      const pendingReminders = mine.filter((d) => d.kind === REFERRAL_REMIND_PARTNER);
      pendingReminders.forEach((d, i) => {
        const at = reminders[reminders.length - pendingReminders.length + i];
        if (at) out.set(d.id, at);
      });
      for (const d of mine) {
        if (d.kind === REFERRAL_EMAIL_PARTNER) out.set(d.id, calendar.nextWorkingMoment(d.dueAt));
        if (d.kind === REFERRAL_ESCALATE_REQUESTER) out.set(d.id, sla(delay));
        if (d.kind === REFERRAL_EXPIRE)
          out.set(
            d.id,
            calendar.addBusinessDays(
              a.sentAt,
              expiryBusinessDays(delay, settings.referralExpiryDays, settings.referralResponseDays),
            ),
          );
        if (
          (d.kind === REFERRAL_ASK_OUTCOME || d.kind === REFERRAL_OUTCOME_FOLLOW_UP) &&
          a.acceptedAt
        )
          out.set(
            d.id,
            calendar.nextWorkingMoment(
              calendar.addBusinessDays(a.acceptedAt, settings.loopClosingDays),
            ),
          );
      }
    }
    return out;
  },
});
