import type { ReportStatus, TriageAction } from './report-schemas';

/** The status each triage action leads to; a report without triage is pending. */
const STATUS_OF: Record<TriageAction, Exclude<ReportStatus, 'pending'>> = {
  create_person: 'person_created',
  link: 'linked',
  dismiss: 'dismissed',
};

/** A report's status, derived from its triage event. */
export const reportStatus = (triageAction: TriageAction | null): ReportStatus =>
  triageAction === null ? 'pending' : STATUS_OF[triageAction];

/**
 * The SQL twin of reportStatus, as a condition on the reports table aliased `a`: the rows of
 * one status. The triage check constraint makes a pending row one without an action.
 */
export function reportStatusWhere(
  a: string,
  status: ReportStatus,
): { sql: string; bindings: string[] } {
  if (status === 'pending') return { sql: `${a}.triage_action IS NULL`, bindings: [] };
  const action = (Object.keys(STATUS_OF) as TriageAction[]).find((k) => STATUS_OF[k] === status)!;
  return { sql: `${a}.triage_action = ?`, bindings: [action] };
}
