import type { DeadlineReplanner } from '../settings/settings-service';
import { DIGEST_DAILY } from '../deadlines/rule-kinds';
import { CALENDAR_SETTINGS } from '../settings/settings-schemas';

/**
 * A structure's pending digest when the digest time changes: the same day at the new time (the
 * day stays a working day). A new time already past today makes the digest due now, so nobody
 * loses the day's digest; each digest then plans the next one with the settings in force.
 */
export const digestReplanner: DeadlineReplanner = {
  kinds: { [DIGEST_DAILY]: ['digestTime', ...CALENDAR_SETTINGS] },
  async replan(_trx, _structureId, pending, settings, calendar) {
    const next = new Map<string, Date>();
    for (const d of pending) {
      const dayBefore = new Date(calendar.startOfDay(d.dueAt).getTime() - 1);
      next.set(d.id, calendar.nextBusinessTimeAfter(dayBefore, settings.digestTime));
    }
    return { moves: next };
  },
};
