import type { Processor } from '../processor';

/**
 * 'report.escalate': a report still waiting triage after the structure's delay; its managers are
 * told (the rule: report-service `escalate`).
 */
export const reportEscalate: Processor = ({ deadline, trx, deps }) =>
  deps.services.reports.escalate(trx, deadline);
