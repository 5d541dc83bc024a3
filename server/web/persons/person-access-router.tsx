import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { createLetterBody } from '../../features/letters/letter-schemas';
import { requestContext } from '../../http/request-context';
import { hasCode, NotFoundError } from '../../lib/errors';
import { compact, dateField, formRefusal, formValues, parseWith, type Messages } from '../forms';
import { csrf, pageContext } from '../page-context';
import {
  actorOf,
  creationContext,
  idOf,
  pageQuery,
  redirectPastLastPage,
  staff,
} from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { parisDay, personLabel, personName } from '../format';
import { JournalPage, LetterPage } from './person-access-views';
import { personExportPdf } from './person-export-pdf';

type Services = Deps['services'];

const JOURNAL_PAGE_SIZE = 50;
const LETTER_FIELDS = ['kind', 'at', 'place', 'phone', 'hours'] as const;
const LETTER_MESSAGES: Messages = {
  kind: 'Choisissez ce que propose le courrier',
  at: 'Saisissez la date et l’heure du rendez-vous',
  'at:date_in_past': 'La date du rendez-vous est passée : choisissez-en une à venir',
  place: 'Saisissez le lieu du rendez-vous',
  phone:
    'Saisissez un numéro de téléphone (chiffres, espaces, + . - ( )), ou celui de l’en-tête dans les paramètres',
  hours: 'Saisissez quand appeler, en 200 caractères au plus',
};

const sendPdf = (res: Response, pdf: Buffer, filename: string, status = 200) => {
  res
    .status(status)
    .type('application/pdf')
    .set('Content-Disposition', `attachment; filename="${filename}"`)
    .send(pdf);
};

/**
 * The data-protection pages of a person file: who read it (managers), the right-of-access export
 * as a PDF (managers), and a letter to the person's postal address (staff). The same services as
 * GET /api/audit, GET /api/persons/:id/export and POST /api/persons/:id/letters.
 */
export function personAccessWebRouter(services: Services): Router {
  const r = Router();
  const managers = () => hasRole('manager');

  r.get('/personnes/:id/journal', managers(), async (req, res) => {
    const id = idOf(req);
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const actor = actorOf(req);
    const rc = requestContext(req);
    // A file merged since answers the error handler's "Fiche fusionnée", as its other pages do.
    const person = await services.persons.get(actor, id, rc);
    const [events, ctx] = await Promise.all([
      services.audit.list(
        actor,
        { personId: id, page: q.data.page, pageSize: JOURNAL_PAGE_SIZE },
        rc,
      ),
      pageContext(req, services.notifications),
    ]);
    const href = (n: number) => `/personnes/${id}/journal?page=${n}`;
    if (await redirectPastLastPage(req, res, events, href, ctx.flash)) return;
    sendPage(
      res,
      <JournalPage ctx={ctx} person={{ id, label: personLabel(person) }} events={events} />,
    );
  });

  r.get('/personnes/:id/export.pdf', managers(), async (req, res) => {
    const data = await services.personExports.export(
      actorOf(req),
      idOf(req),
      'pdf',
      requestContext(req),
    );
    sendPdf(
      res,
      await personExportPdf(data),
      // The day it is in Paris, as the PDF itself dates the export (not UTC's, a day behind at night).
      `donnees-${parisDay(data.generatedAt)}.pdf`,
    );
  });

  async function renderLetter(req: Request, res: Response, form: FormState, status = 200) {
    const actor = actorOf(req);
    const person = await services.persons.get(actor, idOf(req), requestContext(req));
    sendPage(
      res,
      <LetterPage
        ctx={await pageContext(req, services.notifications)}
        person={{
          id: person.id,
          label: personLabel(person),
          address: person.address,
          hasName: personName(person) !== null,
        }}
        form={form}
      />,
      status,
    );
  }

  r.get('/personnes/:id/courrier', staff(), (req, res) =>
    renderLetter(req, res, emptyForm({ kind: 'meeting' })),
  );

  r.post('/personnes/:id/courrier', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, LETTER_FIELDS);
    const errors: Record<string, string> = {};
    const meeting = values.kind === 'meeting';
    const at = meeting ? dateField(values, 'at', errors, LETTER_MESSAGES.at, true) : undefined;
    const { kind, place, phone, hours } = compact(values);
    const input = meeting
      ? { kind, at: at ?? '', place: place ?? '', ...(phone ? { phone } : {}) }
      : { kind, ...(phone ? { phone } : {}), ...(hours ? { hours } : {}) };
    const parsed = parseWith(createLetterBody, input, values, LETTER_MESSAGES, errors);
    if (!parsed.ok) return renderLetter(req, res, parsed.form, 400);
    try {
      const letter = await services.letters.create(
        actorOf(req),
        idOf(req),
        parsed.data,
        creationContext(req),
      );
      sendPdf(res, letter.pdf, letter.filename, 201);
    } catch (err) {
      if (hasCode(err, 'no_postal_address') || hasCode(err, 'no_recipient_name'))
        return renderLetter(req, res, { values, errors: { _form: err.message } }, 422);
      const refused = formRefusal(err, values, LETTER_MESSAGES);
      if (!refused) throw err;
      return renderLetter(req, res, refused.form, refused.status);
    }
  });

  return r;
}
