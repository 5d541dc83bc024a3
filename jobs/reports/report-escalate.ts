import { businessDaysBetween } from '../../server/lib/calendar';
import { NOTIFY_REPORT_ESCALATED } from '../../server/features/reports/report-schemas';
import { done, skipped, type Processor } from '../processor';

/**
 * 'report.escalate': a report still waiting triage after the structure's `reportTriageDays`
 * business days; the structure's active managers are told in the app. The report is locked
 * first, so a triage under way finishes before this looks (and a triaged report is skipped,
 * its deadline cancelled anyway). The title names the receipt, never the person or the text:
 * it may go out by email. The notification's unique key makes a second run a no-op.
 */
export const reportEscalate: Processor = async ({ deadline, trx, deps }) => {
  const report = await deps.services.reports.lockForEscalation(
    trx,
    deadline.structureId,
    deadline.subjectId,
  );
  if (!report) return skipped('report not found');
  if (report.triagedAt) return skipped('report was triaged');
  const managers = await deps.services.teams.structureManagers(trx, deadline.structureId);
  if (managers.length === 0) return skipped('the structure has no active manager');
  const days = businessDaysBetween(deps.calendar, report.createdAt, deadline.dueAt);
  for (const m of managers) {
    await deps.services.notifications.notifyInTransaction(trx, {
      structureId: deadline.structureId,
      recipientId: m.id,
      kind: NOTIFY_REPORT_ESCALATED,
      subjectType: 'report',
      subjectId: report.id,
      dueMoment: deadline.dueAt,
      title: `Signalement ${report.receiptNumber} en attente de tri depuis ${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'}`,
      link: `/signalements/${report.id}`,
    });
  }
  return done();
};
