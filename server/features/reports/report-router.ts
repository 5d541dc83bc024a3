import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole, isPublic } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  listReportsQuery,
  partnerReportBody,
  publicReportBody,
  receiptView,
  reportIdParams,
  reportView,
  sentReportsQuery,
  sentReportView,
  structureSlugParams,
  triageBody,
} from './report-schemas';
import type { ReportService } from './report-service';

/**
 * Reports: the public form's endpoint (no account), a partner's report and their receipts, the
 * triage queue (workers and managers only: never observers, admins, or partners but for their
 * own receipts).
 */
export function reportRouter(reports: ReportService): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);

  endpoint(r, {
    method: 'post',
    path: '/public/:structure/reports',
    policy: isPublic(),
    params: structureSlugParams,
    body: publicReportBody,
    // 202: the report is accepted for a person to triage, not a resource the sender can read.
    status: 202,
    summary:
      'Report someone who may be in difficulty (no account): 202 with a receipt number; unknown structure 404; 429 with Retry-After when an address or the structure sent too many',
    response: receiptView,
    errors: [429],
    handler: ({ params, body, ctx }) => reports.submitPublic(params.structure, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/reports',
    policy: hasRole('partner'),
    body: partnerReportBody,
    status: 201,
    summary: "Partner: report someone to the partner user's structure; the receipt",
    response: receiptView,
    idempotent: true,
    handler: ({ actor, body, ctx }) => reports.submitByPartner(actor, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/reports/sent',
    policy: hasRole('partner'),
    query: sentReportsQuery,
    summary: 'Partner: the reports this user made, newest first (receipts only)',
    response: pageOf(sentReportView),
    handler: ({ actor, query }) => reports.sent(actor, query),
  });
  endpoint(r, {
    method: 'get',
    path: '/reports',
    policy: staff(),
    query: listReportsQuery,
    summary: "The structure's reports: status=pending is the triage queue (oldest first); audited",
    response: pageOf(reportView),
    handler: ({ actor, query, ctx }) => reports.list(actor, query, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/reports/:id',
    policy: staff(),
    params: reportIdParams,
    summary: 'One report with its triage; audited',
    response: reportView,
    handler: ({ actor, params, ctx }) => reports.get(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/reports/:id/triage',
    policy: staff(),
    params: reportIdParams,
    body: triageBody,
    summary:
      'Triage a report once: create_person (a new file, source citizen_report or partner), link (personId of the structure) or dismiss (reason required); 409 when already triaged',
    response: reportView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => reports.triage(actor, params.id, body, ctx),
  });
  return r;
}
