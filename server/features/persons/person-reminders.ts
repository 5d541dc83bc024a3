/**
 * Whether a person's file still gets automatic reminders and digest counts: not paused by its
 * workers, not anonymised. In SQL over the persons table aliased `p`; the daily digest and the
 * partner's count of waiting referrals read it from here.
 */
export const remindersOnSql = (p: string) =>
  `NOT ${p}.pause_reminders AND ${p}.anonymised_at IS NULL`;
