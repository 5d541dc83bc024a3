import { Router, type Request, type Response } from 'express';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { createContactBody } from '../../features/contacts/contact-schemas';
import { createFollowUpBody } from '../../features/follow-ups/follow-up-schemas';
import { rightCode } from '../../features/rights/right-schemas';
import { NotFoundError } from '../../lib/errors';
import {
  compact,
  CONTACT_MESSAGES,
  dateField,
  formRefusal,
  formValues,
  parseWith,
  PLAN_MESSAGES,
} from '../forms';
import { toParisLocalInput } from '../format';
import { csrf, pageContext } from '../page-context';
import {
  actorOf,
  creationContext,
  idOf,
  LIST_PAGE_SIZE,
  pageQuery,
  redirect,
  redirectPastLastPage,
  staff,
} from '../page-helpers';
import { sendPage } from '../render';
import { restoredForm } from '../kept-form';
import { restoredRight } from '../rights/right-views';
import { restoredAttempt } from '../views/actions-page';
import { emptyForm } from '../views/components';
import { PersonPage, timelinePageHref, type PersonForms } from '../views/person-page';

type Services = Deps['services'];

const CONTACT_FIELDS = [
  'occurredAt',
  'channel',
  'outcome',
  'summary',
  'privateNote',
  'nextFollowUpAt',
  'nextFollowUpTitle',
  'allowPast',
] as const;

/** A person's timeline comes in pages of this many entries. */
const TIMELINE_PAGE_SIZE = 50;

export type RenderPerson = (
  req: Request,
  res: Response,
  personId: string,
  forms: Partial<PersonForms>,
  status?: number,
  timelinePage?: number,
) => Promise<void>;

/**
 * Renders a person's file: the page itself, and the page a form of it comes back to with its
 * mistakes (the follow-up router's done and reschedule forms too).
 */
export function personFileRenderer(services: Services, now: () => Date): RenderPerson {
  return async function renderPerson(
    req: Request,
    res: Response,
    personId: string,
    forms: Partial<PersonForms>,
    status = 200,
    timelinePage = 1,
  ) {
    const actor = actorOf(req);
    // The page's reads write their audit events in one statement, before the page is sent.
    const [person, timeline, open, ctx, catalogue, tracked] = await services.audit.together(
      requestContext(req),
      async (rc) => {
        // The scoped read first: outside the structure it is a 404 before anything else is read.
        const p = await services.persons.get(actor, personId, rc);
        return [
          p,
          ...(await Promise.all([
            services.timeline.get(actor, personId, timelinePage, TIMELINE_PAGE_SIZE, rc),
            // The open follow-ups, soonest first, however long the timeline has grown.
            services.followUps.list(
              actor,
              { personId, status: 'open', page: 1, pageSize: LIST_PAGE_SIZE },
              rc,
            ),
            pageContext(req, services.notifications),
            services.rights.catalogue(actor),
            services.rights.forPerson(actor, personId, rc),
          ])),
        ] as const;
      },
    );
    const href = (n: number) => timelinePageHref(personId, n);
    if (await redirectPastLastPage(req, res, timeline, href, ctx.flash)) return;
    sendPage(
      res,
      <PersonPage
        ctx={ctx}
        person={person}
        timeline={timeline}
        openFollowUps={open}
        rights={{ catalogue: catalogue.items, tracked: tracked.items }}
        forms={{
          // A form kept when the session ended (server/web/kept-form.ts) comes back filled.
          contact:
            forms.contact ??
            restoredForm(ctx, `/personnes/${personId}/contacts`, '#noter-contact') ??
            emptyForm({ occurredAt: toParisLocalInput(now()) }),
          plan:
            forms.plan ??
            restoredForm(ctx, `/personnes/${personId}/suivis`, '#planifier-suivi') ??
            emptyForm(),
          followUp: forms.followUp ?? restoredAttempt(ctx, open.items),
          right: forms.right ?? restoredRight(ctx, personId),
          askedRight: forms.askedRight,
        }}
      />,
      status,
    );
  };
}

/**
 * The file's address: its timeline's page, and the right a link asks to update (`droit`, a
 * referral's "Mettre à jour le droit"), whose form the file opens.
 */
const personFileQuery = pageQuery.extend({ droit: rightCode().optional() }).strict();

/** A person's file, and the contact and follow-up forms on it. */
export function personFileWebRouter(services: Services, now: () => Date): Router {
  const r = Router();
  const renderPerson = personFileRenderer(services, now);

  r.get('/personnes/:id', staff(), async (req, res) => {
    const id = idOf(req);
    const q = personFileQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    // A file merged into another is gone (404); the error page says where it went.
    await renderPerson(req, res, id, { askedRight: q.data.droit }, 200, q.data.page);
  });

  r.post('/personnes/:id/contacts', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const personId = idOf(req);
    const actor = actorOf(req);
    const values = formValues(req.body, CONTACT_FIELDS);
    const { allowPast, ...given } = compact(values);
    const errors: Record<string, string> = {};
    const occurredAt = dateField(values, 'occurredAt', errors, CONTACT_MESSAGES.occurredAt, true);
    const nextFollowUpAt = dateField(
      values,
      'nextFollowUpAt',
      errors,
      CONTACT_MESSAGES.nextFollowUpAt,
      false,
    );
    const parsed = parseWith(
      createContactBody,
      {
        ...given,
        occurredAt: occurredAt ?? '',
        // The box confirms the next follow-up's date: without one it says nothing.
        ...(nextFollowUpAt ? { nextFollowUpAt, ...(allowPast ? { allowPast: true } : {}) } : {}),
      },
      values,
      CONTACT_MESSAGES,
      errors,
    );
    if (!parsed.ok) return renderPerson(req, res, personId, { contact: parsed.form }, 400);
    let contact;
    try {
      // Sent twice (a second tap on a slow connection), the form's key makes one contact, and
      // the second answer is the first's.
      contact = await services.contacts.log(actor, personId, parsed.data, creationContext(req));
    } catch (err) {
      const refused = formRefusal(err, values, CONTACT_MESSAGES);
      if (!refused) throw err;
      return renderPerson(req, res, personId, { contact: refused.form }, refused.status);
    }
    await redirect(req, res, `/personnes/${personId}`, {
      type: 'success',
      message: contact.followUpId
        ? 'Le contact est enregistré et le prochain suivi est planifié.'
        : 'Le contact est enregistré.',
    });
  });

  r.post('/personnes/:id/suivis', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const personId = idOf(req);
    const actor = actorOf(req);
    const values = formValues(req.body, ['title', 'dueAt', 'allowPast']);
    const errors: Record<string, string> = {};
    const dueAt = dateField(values, 'dueAt', errors, PLAN_MESSAGES.dueAt, true);
    const parsed = parseWith(
      createFollowUpBody,
      {
        title: values.title ?? '',
        dueAt: dueAt ?? '',
        ...(values.allowPast ? { allowPast: true } : {}),
      },
      values,
      PLAN_MESSAGES,
      errors,
    );
    if (!parsed.ok) return renderPerson(req, res, personId, { plan: parsed.form }, 400);
    try {
      await services.followUps.plan(actor, personId, parsed.data, creationContext(req));
    } catch (err) {
      const refused = formRefusal(err, values, PLAN_MESSAGES);
      if (!refused) throw err;
      return renderPerson(req, res, personId, { plan: refused.form }, refused.status);
    }
    await redirect(req, res, `/personnes/${personId}`, {
      type: 'success',
      message: 'Le suivi est planifié ; il apparaît dans « Mes actions ».',
    });
  });

  return r;
}
