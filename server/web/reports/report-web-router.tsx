import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { sameOriginForStateChanges } from '../../http/same-origin';
import { RECEIPT_PATTERN } from '../../features/reports/report-receipt';
import {
  publicReportBody,
  REPORT_STATUSES,
  structureSlugParams,
  triageBody,
} from '../../features/reports/report-schemas';
import type { PublicStructure } from '../../features/reports/report-service';
import { hasCode, NotFoundError, TooManyRequestsError } from '../../lib/errors';
import { formRefusal, formValues, parseWith } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, redirect, redirectPastLastPage, staff } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import { searchToPick } from '../persons/person-search';
import { REPORT_MESSAGES, TRIAGE_MESSAGES } from './report-labels';
import { PublicReportPage, ReceiptPage, ReportQueuePage, ReportTriagePage } from './report-views';

type Services = Deps['services'];

const REPORT_FIELDS = ['location', 'who', 'concern', 'reporterContact', 'website'] as const;
const QUEUE_PAGE_SIZE = 50;

const queueQuery = z
  .object({
    statut: z.enum(REPORT_STATUSES).default('pending'),
    page: z.coerce.number().int().min(1).max(100000).default(1),
  })
  .strict();

/** A structure's slug in a page's address; a malformed one is a page that does not exist. */
function slugOf(req: Request): string {
  const res = structureSlugParams.safeParse({ structure: req.params.slug });
  if (!res.success) throw new NotFoundError('Page');
  return res.data.structure;
}

/**
 * The public report form (no account: no session is made for it, so its CSRF defence is the
 * same-origin check, and it is rate-limited by the service), the workers' triage queue and
 * triage page, over the reports service. A partner reports from their inbox (referral pages).
 */
export function reportWebRouter(services: Services, publicUrl: string): Router {
  const r = Router();
  const sameOrigin = sameOriginForStateChanges(publicUrl);

  // ---- The public form ------------------------------------------------------------------
  async function renderForm(
    res: Response,
    structure: PublicStructure,
    form: FormState,
    status = 200,
    limited = false,
  ) {
    sendPage(res, <PublicReportPage structure={structure} form={form} limited={limited} />, status);
  }

  r.get('/signaler/:slug', isPublic(), async (req, res) => {
    const structure = await services.reports.structureForForm(slugOf(req));
    await renderForm(res, structure, emptyForm());
  });

  r.post('/signaler/:slug', isPublic(), sameOrigin, async (req, res) => {
    const structure = await services.reports.structureForForm(slugOf(req));
    const values = formValues(req.body, REPORT_FIELDS);
    const { website: _hp, ...shown } = values;
    const parsed = parseWith(publicReportBody, values, shown, REPORT_MESSAGES);
    if (!parsed.ok) return renderForm(res, structure, parsed.form, 400);
    try {
      const receipt = await services.reports.submitPublic(
        structure.slug,
        parsed.data,
        requestContext(req),
      );
      res.redirect(
        303,
        `/signaler/${structure.slug}/recu?numero=${encodeURIComponent(receipt.receiptNumber)}`,
      );
    } catch (err) {
      if (!hasCode(err, 'too_many_requests')) throw err;
      const wait = (err as TooManyRequestsError).retryAfterSeconds;
      if (wait) res.setHeader('Retry-After', String(wait));
      return renderForm(res, structure, emptyForm(shown), 429, true);
    }
  });

  // The receipt number is in the address: it carries nothing personal, and a reload shows it.
  r.get('/signaler/:slug/recu', isPublic(), async (req, res) => {
    const structure = await services.reports.structureForForm(slugOf(req));
    const number = typeof req.query.numero === 'string' ? req.query.numero : '';
    if (!RECEIPT_PATTERN.test(number)) throw new NotFoundError('Page');
    sendPage(res, <ReceiptPage structure={structure} receiptNumber={number} />);
  });

  // ---- The triage queue and page (workers and managers) -------------------------------------
  r.get('/signalements', staff(), async (req, res) => {
    const q = queueQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const [list, ctx] = await Promise.all([
      services.reports.list(
        actorOf(req),
        { status: q.data.statut, page: q.data.page, pageSize: QUEUE_PAGE_SIZE },
        requestContext(req),
      ),
      pageContext(req, services.notifications),
    ]);
    const href = (p: number) => `/signalements?statut=${q.data.statut}&page=${p}`;
    if (await redirectPastLastPage(req, res, list, href, ctx.flash)) return;
    sendPage(res, <ReportQueuePage ctx={ctx} list={list} status={q.data.statut} />);
  });

  /**
   * The triage page; `typed`: a search for the file to link, run once the report is read (another
   * structure's is a 404 before anything is searched) and only while it waits for triage.
   */
  async function renderTriage(
    req: Request,
    res: Response,
    id: string,
    form: FormState,
    status = 200,
    typed?: string,
  ) {
    const actor = actorOf(req);
    const rc = requestContext(req);
    const report = await services.reports.get(actor, id, rc);
    const pending = report.status === 'pending';
    const [candidates, found, ctx] = await Promise.all([
      pending
        ? services.personMerges.duplicates(
            actor,
            { alias: report.who ?? undefined, place: report.location },
            rc,
          )
        : Promise.resolve({ items: [] }),
      pending && typed !== undefined
        ? searchToPick(services.persons, actor, typed, rc)
        : Promise.resolve(undefined),
      pageContext(req, services.notifications),
    ]);
    sendPage(
      res,
      <ReportTriagePage
        ctx={ctx}
        report={report}
        candidates={candidates.items}
        search={found?.search}
        form={form}
      />,
      found?.status ?? status,
    );
  }

  r.get('/signalements/:id', staff(), async (req, res) =>
    renderTriage(req, res, idOf(req), emptyForm()),
  );

  // Any file of the structure, beyond the look-alikes: linked through the same triage below.
  r.post(
    '/signalements/:id/recherche',
    staff(),
    csrf.csrfSynchronisedProtection,
    async (req, res) =>
      renderTriage(req, res, idOf(req), emptyForm(), 200, formValues(req.body, ['q']).q ?? ''),
  );

  r.post('/signalements/:id/tri', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const values = formValues(req.body, ['action', 'personId', 'reason']);
    const input = {
      action: values.action ?? '',
      ...(values.personId ? { personId: values.personId } : {}),
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
    };
    const shown = { reason: values.reason ?? '' };
    const parsed = parseWith(triageBody, input, shown, TRIAGE_MESSAGES);
    if (!parsed.ok) return renderTriage(req, res, id, parsed.form, 400);
    try {
      const report = await services.reports.triage(
        actorOf(req),
        id,
        parsed.data,
        requestContext(req),
      );
      if (report.personId)
        return redirect(req, res, `/personnes/${report.personId}`, {
          type: 'success',
          message:
            report.status === 'person_created'
              ? `Fiche créée à partir du signalement ${report.receiptNumber}.`
              : `Signalement ${report.receiptNumber} rattaché à cette fiche.`,
        });
      await redirect(req, res, '/signalements', {
        type: 'success',
        message: `Signalement ${report.receiptNumber} écarté.`,
      });
    } catch (err) {
      // Triaged by someone else meanwhile: the report as decided, the typed reason quoted.
      if (hasCode(err, 'invalid_transition'))
        return renderTriage(req, res, id, staleForm(shown), 409);
      const refused = formRefusal(err, shown, TRIAGE_MESSAGES);
      if (!refused) throw err;
      return renderTriage(req, res, id, refused.form, refused.status);
    }
  });

  return r;
}
