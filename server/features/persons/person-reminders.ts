/** What decides whether a person's file still gets automatic messages and tasks. */
export interface ReminderState {
  anonymisedAt: Date | null;
  pauseReminders: boolean;
  closedAt: Date | null;
}

/**
 * Why the structure no longer follows this person (the file anonymised, or closed: moved,
 * deceased, refused…), or null while it does. Nothing automatic happens about such a person:
 * no message to anyone and no task, not even those a paused file keeps (the "Réorienter"
 * follow-up after a referral expires, the loop-closing follow-up, the expiry notice to the
 * requester). The user's own follow-ups and referrals stay as they are; what falls due while
 * the file is closed is skipped, not replayed on reopening (which re-plans the no-contact rule).
 */
export function fileNotFollowed(person: ReminderState | null | undefined): string | null {
  if (!person || person.anonymisedAt) return 'person no longer followed';
  if (person.closedAt) return 'file closed';
  return null;
}

/**
 * Why automatic reminders about this person are off, or null when they are on: the file no
 * longer followed (above), or reminders paused by its workers, which stops the messages (and
 * the no-contact rule) but not the tasks a referral plans. Every automatic message asks it: the
 * follow-up and no-contact reminders, the partner's reminder and outcome emails, the escalation
 * to the requester; `remindersOnSql` is the same rule for the digests' counts.
 */
export function remindersOff(person: ReminderState | null | undefined): string | null {
  return (
    fileNotFollowed(person) ?? (person?.pauseReminders ? 'reminders paused for this person' : null)
  );
}

/**
 * `remindersOff` in SQL over the persons table aliased `p` (true when reminders are on): the
 * daily digest and the partner's count of waiting referrals read it from here.
 */
export const remindersOnSql = (p: string) =>
  `NOT ${p}.pause_reminders AND ${p}.anonymised_at IS NULL AND ${p}.closed_at IS NULL`;

/** The columns of the rule, for a repository that reads the persons table aliased `p`. */
export const PERSON_REMINDER_COLUMNS = ['p.pause_reminders', 'p.closed_at', 'p.anonymised_at'];

/** Those columns as a row holds them, mapped at the repository's edge by `toReminderState`. */
export interface ReminderRow {
  pause_reminders: boolean;
  closed_at: Date | null;
  anonymised_at: Date | null;
}

export const toReminderState = (r: ReminderRow): ReminderState => ({
  pauseReminders: r.pause_reminders,
  closedAt: r.closed_at ?? null,
  anonymisedAt: r.anonymised_at ?? null,
});
