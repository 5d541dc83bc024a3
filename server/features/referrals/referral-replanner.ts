import type { ReferralRepository } from './referral-repository';
import type { DeadlineReplanner } from '../settings/settings-service';
import { CALENDAR_SETTINGS } from '../settings/settings-schemas';
import {
  expiryBusinessDays,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
  reminderBusinessDays,
} from './referral-schemas';

/**
 * A referral's deadlines as the structure's settings place them, counted from when it was sent
 * (or accepted, for closing the loop), exactly as the referral service plans them. The partner's
 * reminders are matched from the last: the last pending one is the reminder at the delay's end.
 */
export const referralReplanner = (
  referrals: Pick<ReferralRepository, 'replanAnchors'>,
): DeadlineReplanner => ({
  // A service's own delay replaces referralResponseDays; that one is read from the referral.
  kinds: {
    [REFERRAL_EMAIL_PARTNER]: CALENDAR_SETTINGS,
    [REFERRAL_REMIND_PARTNER]: ['referralResponseDays', ...CALENDAR_SETTINGS],
    [REFERRAL_ESCALATE_REQUESTER]: ['referralResponseDays', ...CALENDAR_SETTINGS],
    [REFERRAL_EXPIRE]: ['referralResponseDays', 'referralExpiryDays', ...CALENDAR_SETTINGS],
    [REFERRAL_ASK_OUTCOME]: ['loopClosingDays', ...CALENDAR_SETTINGS],
    [REFERRAL_OUTCOME_FOLLOW_UP]: ['loopClosingDays', ...CALENDAR_SETTINGS],
  },
  async replan(trx, structureId, pending, settings, calendar) {
    const out = new Map<string, Date>();
    const referralIds = [
      ...new Set(pending.filter((d) => d.subjectType === 'referral').map((d) => d.subjectId)),
    ];
    const anchors = await referrals.replanAnchors(trx, structureId, referralIds);
    for (const id of referralIds) {
      const a = anchors.get(id);
      if (!a) continue;
      const delay = a.serviceDelay ?? settings.referralResponseDays;
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
