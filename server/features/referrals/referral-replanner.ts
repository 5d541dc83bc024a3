import type { ReferralRepository } from './referral-repository';
import type { NewDeadline } from '../deadlines/outbox';
import type { DeadlineReplanner } from '../settings/settings-service';
import { CALENDAR_SETTINGS } from '../settings/settings-schemas';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
  referralExpiresAt,
  reminderBusinessDays,
  responseDelayOf,
} from './referral-schemas';

/**
 * A referral's deadlines as the structure's settings place them, counted from when it was sent
 * (or accepted, for closing the loop), exactly as the referral service plans them. A new
 * response delay may change how many reminders the partner gets (one at its end, and one at
 * day 3 when it is longer): the reminders delivered already stand for the first ones the new
 * delay calls for, and are not sent again; the pending ones take the moments of the rest in
 * order, a surplus is cancelled, and what is missing is added while the partner has not
 * answered.
 */
export const referralReplanner = (
  referrals: Pick<ReferralRepository, 'replanAnchors'>,
): DeadlineReplanner => ({
  // A service's own delay replaces referralResponseDays; that one is read from the referral.
  kinds: {
    [REFERRAL_EMAIL_PARTNER]: CALENDAR_SETTINGS,
    // A link sent again is kept at its working moment, never one of the planned reminders.
    [REFERRAL_RESEND_LINK]: CALENDAR_SETTINGS,
    [REFERRAL_REMIND_PARTNER]: ['referralResponseDays', ...CALENDAR_SETTINGS],
    [REFERRAL_ESCALATE_REQUESTER]: ['referralResponseDays', ...CALENDAR_SETTINGS],
    [REFERRAL_EXPIRE]: ['referralResponseDays', 'referralExpiryDays', ...CALENDAR_SETTINGS],
    [REFERRAL_ASK_OUTCOME]: ['loopClosingDays', ...CALENDAR_SETTINGS],
    [REFERRAL_OUTCOME_FOLLOW_UP]: ['loopClosingDays', ...CALENDAR_SETTINGS],
  },
  async replan(trx, structureId, pending, settings, calendar) {
    const out = new Map<string, Date>();
    const cancels: string[] = [];
    const adds: NewDeadline[] = [];
    const referralIds = [
      ...new Set(pending.filter((d) => d.subjectType === 'referral').map((d) => d.subjectId)),
    ];
    const anchors = await referrals.replanAnchors(trx, structureId, referralIds);
    for (const id of referralIds) {
      const a = anchors.get(id);
      if (!a) continue;
      const delay = responseDelayOf(a.serviceDelay, settings.referralResponseDays);
      const sla = (days: number) =>
        calendar.nextWorkingMoment(calendar.addBusinessDays(a.sentAt, days));
      const mine = pending.filter((d) => d.subjectId === id);
      // Pending rows come in due order (pendingOfKinds), as the reminders they stand for.
      const toSend = reminderBusinessDays(delay).map(sla).slice(a.remindersDelivered);
      const pendingReminders = mine.filter((d) => d.kind === REFERRAL_REMIND_PARTNER);
      pendingReminders.forEach((d, i) => {
        if (i < toSend.length) out.set(d.id, toSend[i]);
        else cancels.push(d.id);
      });
      if (a.status === 'requested') {
        for (const dueAt of toSend.slice(pendingReminders.length))
          adds.push({
            structureId: mine[0].structureId,
            kind: REFERRAL_REMIND_PARTNER,
            subjectType: 'referral',
            subjectId: id,
            dueAt,
          });
      }
      for (const d of mine) {
        if (d.kind === REFERRAL_EMAIL_PARTNER || d.kind === REFERRAL_RESEND_LINK)
          out.set(d.id, calendar.nextWorkingMoment(d.dueAt));
        if (d.kind === REFERRAL_ESCALATE_REQUESTER) out.set(d.id, sla(delay));
        if (d.kind === REFERRAL_EXPIRE)
          out.set(d.id, referralExpiresAt(calendar, a.sentAt, delay, settings));
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
    return { moves: out, cancels, adds };
  },
});
