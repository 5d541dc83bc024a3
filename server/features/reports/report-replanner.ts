import type { DeadlineReplanner } from '../settings/settings-service';
import { CALENDAR_SETTINGS } from '../settings/settings-schemas';
import type { ReportRepository } from './report-repository';
import { REPORT_ESCALATE } from './report-schemas';

/**
 * The escalation of waiting reports as new settings place it: `reportTriageDays` business days
 * after the report arrived, at a working moment, exactly as the report service plans it.
 */
export function reportReplanner(reports: Pick<ReportRepository, 'createdAt'>): DeadlineReplanner {
  return {
    kinds: { [REPORT_ESCALATE]: ['reportTriageDays', ...CALENDAR_SETTINGS] },
    async replan(trx, structureId, pending, settings, calendar) {
      const next = new Map<string, Date>();
      const arrived = await reports.createdAt(
        trx,
        structureId,
        pending.filter((d) => d.subjectType === 'report').map((d) => d.subjectId),
      );
      for (const d of pending) {
        const at = arrived.get(d.subjectId);
        if (at)
          next.set(
            d.id,
            calendar.nextWorkingMoment(calendar.addBusinessDays(at, settings.reportTriageDays)),
          );
      }
      return { moves: next };
    },
  };
}
