import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { plainString } from '../lib/validate';
import { homeFor, PERSON_ROLES } from '../auth/actor';
import { logIn, logOut } from '../auth/login';
import { loginBody } from '../features/auth/auth-router';
import { hasRole, isAuthenticated, isPublic } from '../auth/policies';
import type { Deps } from '../container';
import { createContactBody } from '../features/contacts/contact-schemas';
import { createFollowUpBody, updateFollowUpBody } from '../features/follow-ups/follow-up-schemas';
import { requestContext } from '../features/audit/audit-repository';
import {
  createPersonBody,
  PATH_STATUSES,
  type PathStatus,
} from '../features/persons/person-schemas';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../lib/errors';
import {
  compact,
  CONTACT_MESSAGES,
  dateField,
  formFromServiceError,
  formValues,
  INTAKE_MESSAGES,
  LOGIN_MESSAGES,
  parseWith,
  PLAN_MESSAGES,
  RESCHEDULE_MESSAGES,
  SEARCH_MESSAGES,
} from './forms';
import { localPath, toParisLocalInput } from './format';
import { csrf, pageContext } from './page-context';
import { sendPage } from './render';
import { ActionsPage, actionsPageHref } from './views/actions-page';
import { emptyForm, type FormState } from './views/components';
import { IntakePage } from './views/intake-page';
import { LoginPage } from './views/login-page';
import { NotificationsPage } from './views/notifications-page';
import { PersonPage, timelinePageHref, type PersonForms } from './views/person-page';
import { PersonsPage, personsPageHref } from './views/persons-page';
import type { Flash } from './views/layout';
import { personEditWebRouter } from './persons/person-edit-router';
import { renderBacklog } from './backlog/backlog-web-router';
import {
  actorOf,
  idOf,
  page,
  redirect,
  redirectPastLastPage,
  saveAndRedirect,
} from './page-helpers';

type Services = Deps['services'];

const CONTACT_FIELDS = [
  'occurredAt',
  'channel',
  'outcome',
  'summary',
  'nextFollowUpAt',
  'nextFollowUpTitle',
] as const;
const INTAKE_FIELDS = [
  'alias',
  'source',
  'firstName',
  'lastName',
  'birthYear',
  'phone',
  'districtId',
  'situation',
] as const;

/** Long lists come in pages: the timeline of a person, "Mes actions" (the API's largest page). */
const TIMELINE_PAGE_SIZE = 50;
const LIST_PAGE_SIZE = 100;
/** A page number is the only parameter of a paged page; anything else is not a page here. */
const pageQuery = z
  .object({ page: z.coerce.number().int().min(1).max(100000).default(1) })
  .strict();

const SESSION_EXPIRED: Flash = {
  type: 'warning',
  message:
    'Votre session a expiré ; ce que vous aviez saisi n’a pas été enregistré. Reconnectez-vous pour revenir à la page, puis saisissez-le à nouveau.',
};

/**
 * The web back office: server-rendered pages over the same services and policies as the JSON
 * API. Each route starts with its policy; each POST checks the synchronizer CSRF token.
 */
export function webRouter(services: Services, now: () => Date): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);
  const ctxFor = (req: Request, withToken?: boolean) =>
    pageContext(req, services.notifications, { withToken });

  // ---- Login / logout -------------------------------------------------------------------
  r.get(
    '/connexion',
    isPublic(),
    page(async (req, res) => {
      const returnTo = localPath(req.query.retour) ?? '/';
      if (req.user) return res.redirect(303, returnTo);
      const ctx = await ctxFor(req, true);
      if (!ctx.flash && req.query.session === 'expiree') ctx.flash = SESSION_EXPIRED;
      if (!ctx.flash && req.query.retour)
        ctx.flash = { type: 'info', message: 'Connectez-vous pour continuer.' };
      if (!ctx.flash && req.query.deconnecte)
        ctx.flash = { type: 'success', message: 'Vous êtes déconnecté·e.' };
      sendPage(res, <LoginPage ctx={ctx} form={emptyForm()} returnTo={returnTo} />);
    }),
  );

  r.post(
    '/connexion',
    isPublic(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const values = formValues(req.body, ['email', 'password', 'retour']);
      const returnTo = localPath(values.retour) ?? '/';
      // The API's own login schema: the same trimming and limits, errors by the field.
      const parsed = parseWith(
        loginBody,
        { email: values.email ?? '', password: values.password ?? '' },
        values,
        LOGIN_MESSAGES,
      );
      const errors: Record<string, string> = parsed.ok ? {} : parsed.form.errors;
      let status = 400;
      if (parsed.ok) {
        try {
          const user = await services.auth.authenticate(
            parsed.data.email,
            parsed.data.password,
            req.ip ?? 'unknown',
          );
          await logIn(req, user);
          const home = homeFor(user.role);
          return res.redirect(303, returnTo === '/' ? home : returnTo);
        } catch (err) {
          if (err instanceof UnauthorizedError) {
            status = 401;
            errors.password = 'Adresse électronique ou mot de passe incorrect';
          } else if (err instanceof TooManyRequestsError) {
            status = 429;
            errors.password =
              'Trop de tentatives de connexion : patientez quelques minutes avant de réessayer';
          } else throw err;
        }
      }
      const ctx = await ctxFor(req, true);
      sendPage(
        res,
        <LoginPage
          ctx={ctx}
          form={{ values: { email: values.email ?? '' }, errors }}
          returnTo={returnTo}
        />,
        status,
      );
    }),
  );

  r.post(
    '/deconnexion',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      await logOut(req);
      res.redirect(303, '/connexion?deconnecte=1');
    }),
  );

  // ---- Home: the team's backlog for managers, "Mes actions" for workers ------------------------
  r.get(
    '/',
    staff(),
    page(async (req, res) => {
      if (actorOf(req).role === 'manager') return renderBacklog(services, req, res);
      return renderActions(req, res);
    }),
  );
  // A manager's own follow-ups, where a worker's are at the root.
  r.get('/mes-actions', staff(), page(renderActions));

  async function renderActions(req: Request, res: Response) {
    const actor = actorOf(req);
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const [followUps, notes, ctx] = await Promise.all([
      services.followUps.list(
        actor,
        { assignee: 'me', status: 'open', page: q.data.page, pageSize: LIST_PAGE_SIZE },
        requestContext(req),
      ),
      services.notifications.list(actor.id, { unread: true, page: 1, pageSize: 5 }),
      // The unread count comes with the list just above: no second count query.
      pageContext(req, null),
    ]);
    const base = actor.role === 'manager' ? '/mes-actions' : '/';
    const href = (p: number) => actionsPageHref(p, base);
    if (await redirectPastLastPage(req, res, followUps, href, ctx.flash)) return;
    ctx.unread = notes.unread;
    sendPage(
      res,
      <ActionsPage
        ctx={ctx}
        followUps={followUps}
        notifications={notes.items}
        now={now()}
        base={base}
      />,
    );
  }

  // ---- Persons list and search --------------------------------------------------------------
  // The search is sent by POST and kept in the session: a name typed in the search box never
  // reaches an address (browser history, proxies, shared screens). Page links carry the page
  // number only.
  const searchForm = z
    .object({
      q: plainString().trim().max(100).optional(),
      statut: z.union([z.enum(PATH_STATUSES), z.literal('')]).optional(),
      mes: z.literal('1').optional(),
      quartier: z.union([z.uuid(), z.literal('')]).optional(),
    })
    .strict();

  async function renderPersons(
    req: Request,
    res: Response,
    opts: { page?: number; form?: FormState; status?: number } = {},
  ) {
    const f = req.session.personSearch ?? { q: '', statut: '', quartier: '', mes: false };
    const page = opts.page ?? 1;
    const actor = actorOf(req);
    const [result, ctx, districts] = await Promise.all([
      services.persons.search(
        actor,
        {
          q: f.q || undefined,
          status: (f.statut || undefined) as PathStatus | undefined,
          district: f.quartier || undefined,
          referentId: f.mes ? 'me' : undefined,
          page,
          pageSize: 20,
        },
        requestContext(req),
      ),
      ctxFor(req),
      services.persons.listDistricts(actor),
    ]);
    if (await redirectPastLastPage(req, res, result, personsPageHref, ctx.flash)) return;
    sendPage(
      res,
      <PersonsPage
        ctx={ctx}
        filters={{ ...f, page }}
        form={
          opts.form ??
          emptyForm({ q: f.q, statut: f.statut, quartier: f.quartier, mes: f.mes ? '1' : '' })
        }
        districts={districts}
        result={result}
      />,
      opts.status ?? 200,
    );
  }

  r.get(
    '/personnes',
    staff(),
    page(async (req, res) => {
      const q = pageQuery.safeParse(req.query);
      if (q.success) return renderPersons(req, res, { page: q.data.page });
      // An old link with the search in its address: the list as it stands, and a word by the
      // search field.
      const f = req.session.personSearch;
      return renderPersons(req, res, {
        status: 400,
        form: {
          values: {
            q: f?.q ?? '',
            statut: f?.statut ?? '',
            quartier: f?.quartier ?? '',
            mes: f?.mes ? '1' : '',
          },
          errors: { q: SEARCH_MESSAGES.address },
        },
      });
    }),
  );

  r.post(
    '/personnes',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      if ((req.body as Record<string, unknown> | undefined)?.action === 'effacer') {
        delete req.session.personSearch;
        return saveAndRedirect(req, res, '/personnes');
      }
      const values = formValues(req.body, ['q', 'statut', 'quartier', 'mes']);
      const parsed = parseWith(searchForm, compact(values), values, SEARCH_MESSAGES);
      if (!parsed.ok) return renderPersons(req, res, { form: parsed.form, status: 400 });
      const f = parsed.data;
      req.session.personSearch = {
        q: f.q ?? '',
        statut: f.statut ?? '',
        quartier: f.quartier ?? '',
        mes: Boolean(f.mes),
      };
      await saveAndRedirect(req, res, '/personnes');
    }),
  );

  // ---- Quick intake -------------------------------------------------------------------------
  r.get(
    '/personnes/nouvelle',
    staff(),
    page(async (req, res) => {
      const [ctx, districts] = await Promise.all([
        ctxFor(req),
        services.persons.listDistricts(actorOf(req)),
      ]);
      sendPage(
        res,
        <IntakePage ctx={ctx} form={emptyForm({ source: 'outreach' })} districts={districts} />,
      );
    }),
  );

  r.post(
    '/personnes/nouvelle',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const actor = actorOf(req);
      const values = formValues(req.body, INTAKE_FIELDS);
      const { birthYear: birthYearText, ...given } = compact(values);
      const preErrors: Record<string, string> = {};
      // The API's alias-or-name rule runs only once the fields are valid; the form shows every
      // mistake at once.
      if (!given.alias && !given.firstName && !given.lastName)
        preErrors.alias = INTAKE_MESSAGES.alias;
      let birthYear: number | undefined;
      if (birthYearText) {
        birthYear = /^\d{4}$/.test(birthYearText.trim()) ? Number(birthYearText) : NaN;
        if (Number.isNaN(birthYear)) preErrors.birthYear = INTAKE_MESSAGES.birthYear;
      }
      const parsed = parseWith(
        createPersonBody,
        { ...given, ...(birthYear !== undefined && !preErrors.birthYear ? { birthYear } : {}) },
        values,
        INTAKE_MESSAGES,
        preErrors,
      );
      let form: FormState;
      if (parsed.ok) {
        try {
          const person = await services.persons.create(actor, parsed.data, requestContext(req));
          return redirect(req, res, `/personnes/${person.id}`, {
            type: 'success',
            message: 'La personne est enregistrée. Notez maintenant le premier contact.',
          });
        } catch (err) {
          const f = formFromServiceError(err, values, INTAKE_MESSAGES);
          if (!f) throw err;
          form = f;
        }
      } else form = parsed.form;
      const [ctx, districts] = await Promise.all([
        ctxFor(req),
        services.persons.listDistricts(actor),
      ]);
      sendPage(res, <IntakePage ctx={ctx} form={form} districts={districts} />, 400);
    }),
  );

  // ---- Person file --------------------------------------------------------------------------
  async function renderPerson(
    req: Request,
    res: Response,
    personId: string,
    forms: Partial<PersonForms>,
    status = 200,
    timelinePage = 1,
  ) {
    const actor = actorOf(req);
    const rc = requestContext(req);
    // The scoped read first: outside the structure it is a 404 before anything else is read.
    const person = await services.persons.get(actor, personId, rc);
    const [timeline, open, ctx] = await Promise.all([
      services.timeline.get(actor, personId, timelinePage, TIMELINE_PAGE_SIZE, rc),
      // The open follow-ups, soonest first, however long the timeline has grown.
      services.followUps.list(
        actor,
        { personId, status: 'open', page: 1, pageSize: LIST_PAGE_SIZE },
        rc,
      ),
      ctxFor(req),
    ]);
    const href = (n: number) => timelinePageHref(personId, n);
    if (await redirectPastLastPage(req, res, timeline, href, ctx.flash)) return;
    sendPage(
      res,
      <PersonPage
        ctx={ctx}
        person={person}
        timeline={timeline}
        openFollowUps={open}
        forms={{
          contact: forms.contact ?? emptyForm({ occurredAt: toParisLocalInput(now()) }),
          plan: forms.plan ?? emptyForm(),
          reschedule: forms.reschedule,
        }}
      />,
      status,
    );
  }

  r.use(personEditWebRouter(services));

  r.get(
    '/personnes/:id',
    staff(),
    page(async (req, res) => {
      const id = idOf(req);
      const q = pageQuery.safeParse(req.query);
      if (!q.success) throw new NotFoundError('Page');
      await renderPerson(req, res, id, {}, 200, q.data.page);
    }),
  );

  r.post(
    '/personnes/:id/contacts',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const personId = idOf(req);
      const actor = actorOf(req);
      const values = formValues(req.body, CONTACT_FIELDS);
      const given = compact(values);
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
          ...(nextFollowUpAt ? { nextFollowUpAt } : {}),
        },
        values,
        CONTACT_MESSAGES,
        errors,
      );
      if (!parsed.ok) return renderPerson(req, res, personId, { contact: parsed.form }, 400);
      const contact = await services.contacts.log(
        actor,
        personId,
        parsed.data,
        requestContext(req),
      );
      await redirect(req, res, `/personnes/${personId}`, {
        type: 'success',
        message: contact.followUpId
          ? 'Le contact est enregistré et le prochain suivi est planifié.'
          : 'Le contact est enregistré.',
      });
    }),
  );

  r.post(
    '/personnes/:id/suivis',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const personId = idOf(req);
      const actor = actorOf(req);
      const values = formValues(req.body, ['title', 'dueAt']);
      const errors: Record<string, string> = {};
      const dueAt = dateField(values, 'dueAt', errors, PLAN_MESSAGES.dueAt, true);
      const parsed = parseWith(
        createFollowUpBody,
        { title: values.title ?? '', dueAt: dueAt ?? '' },
        values,
        PLAN_MESSAGES,
        errors,
      );
      if (!parsed.ok) return renderPerson(req, res, personId, { plan: parsed.form }, 400);
      await services.followUps.plan(actor, personId, parsed.data, requestContext(req));
      await redirect(req, res, `/personnes/${personId}`, {
        type: 'success',
        message: 'Le suivi est planifié ; il apparaît dans « Mes actions ».',
      });
    }),
  );

  // ---- Follow-up: complete or reschedule ------------------------------------------------------
  const followUpForm = z
    .object({
      _csrf: z.string(),
      action: z.enum(['terminer', 'reporter', 'rouvrir']),
      retour: z.string().optional(),
      dueAt: z.string().optional(),
      note: z.string().optional(),
    })
    .strict();

  r.post(
    '/suivis/:id',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const id = idOf(req);
      const actor = actorOf(req);
      const body = followUpForm.safeParse(req.body ?? {});
      if (!body.success) {
        throw new ValidationError('Invalid body', [
          { field: 'action', message: 'Action inconnue' },
        ]);
      }
      const returnTo = localPath(body.data.retour) ?? '/';
      const personMatch = /^\/personnes\/([0-9a-f-]{36})$/.exec(returnTo);
      const values = { dueAt: body.data.dueAt ?? '' };
      let input: z.infer<typeof updateFollowUpBody>;
      if (body.data.action === 'terminer') {
        const note = body.data.note?.trim().slice(0, 280);
        input = note ? { status: 'done', note } : { status: 'done' };
      } else if (body.data.action === 'rouvrir') {
        input = { status: 'open' };
      } else {
        const errors: Record<string, string> = {};
        const dueAt = dateField(values, 'dueAt', errors, RESCHEDULE_MESSAGES.dueAt, true);
        const parsed = parseWith(
          updateFollowUpBody,
          { dueAt: dueAt ?? '' },
          values,
          RESCHEDULE_MESSAGES,
          errors,
        );
        if (!parsed.ok) {
          if (personMatch) {
            return renderPerson(
              req,
              res,
              personMatch[1],
              { reschedule: { id, form: parsed.form } },
              400,
            );
          }
          return redirect(req, res, returnTo, {
            type: 'error',
            message: RESCHEDULE_MESSAGES.dueAt,
          });
        }
        input = parsed.data;
      }
      try {
        const f = await services.followUps.update(actor, id, input, requestContext(req));
        await redirect(req, res, returnTo, {
          type: 'success',
          message:
            body.data.action === 'terminer'
              ? `Suivi « ${f.title} » marqué comme fait.`
              : body.data.action === 'rouvrir'
                ? `Suivi « ${f.title} » rouvert.`
                : `Suivi « ${f.title} » reporté.`,
          // Done by mistake: taken back from the message itself.
          undo:
            body.data.action === 'terminer'
              ? {
                  action: `/suivis/${id}`,
                  fields: { action: 'rouvrir', retour: returnTo },
                  label: `Annuler : rouvrir « ${f.title} »`,
                }
              : undefined,
        });
      } catch (err) {
        // A colleague's follow-up (its buttons are not shown, but a page may be stale): the
        // refusal is said on the page the user came from, not as a 403 page.
        if (err instanceof ForbiddenError) {
          return redirect(req, res, returnTo, {
            type: 'error',
            message:
              'Vous ne pouvez pas modifier ce suivi : seul·e la personne à qui il est confié, celle qui l’a planifié ou un·e cadre le peut.',
          });
        }
        if (!(err instanceof ConflictError)) throw err;
        await redirect(req, res, returnTo, {
          type: 'error',
          message: 'Ce suivi a déjà été fait ou annulé entre-temps ; la page est à jour.',
        });
      }
    }),
  );

  // ---- Notifications ------------------------------------------------------------------------
  r.get(
    '/notifications',
    isAuthenticated(),
    page(async (req, res) => {
      const actor = actorOf(req);
      const [list, ctx] = await Promise.all([
        services.notifications.list(actor.id, { page: 1, pageSize: 50 }),
        pageContext(req, null),
      ]);
      ctx.unread = list.unread;
      sendPage(res, <NotificationsPage ctx={ctx} items={list.items} total={list.total} />);
    }),
  );

  r.post(
    '/notifications/tout-lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const { read } = await services.notifications.markAllRead(actorOf(req).id);
      await redirect(req, res, '/notifications', {
        type: 'success',
        message:
          read === 0
            ? 'Tout était déjà lu.'
            : `${read > 1 ? `${read} notifications marquées` : '1 notification marquée'} comme lue${read > 1 ? 's' : ''}.`,
      });
    }),
  );

  r.post(
    '/notifications/:id/lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const n = await services.notifications.markRead(actorOf(req).id, idOf(req));
      await redirect(req, res, '/notifications', {
        type: 'success',
        message: `Notification « ${n.title} » marquée comme lue.`,
      });
    }),
  );

  return r;
}
