import crypto from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import {
  createPersonBody,
  PATH_STATUSES,
  type CreatePersonInput,
  type PathStatus,
} from '../../features/persons/person-schemas';
import {
  NON_TAKE_UP_REASONS,
  RIGHT_STATUSES,
  rightCode,
  type NonTakeUpReason,
  type RightStatus,
} from '../../features/rights/right-schemas';
import { plainString } from '../../lib/validate';
import {
  compact,
  formRefusal,
  formValues,
  INTAKE_MESSAGES,
  parseWith,
  SEARCH_MESSAGES,
} from '../forms';
import { csrf, pageContext } from '../page-context';
import {
  actorOf,
  creationContext,
  pageQuery,
  redirect,
  redirectPastLastPage,
  saveAndRedirect,
  staff,
} from '../page-helpers';
import { restoredForm } from '../kept-form';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { IntakePage } from '../views/intake-page';
import { PersonsPage, personsPageHref } from '../views/persons-page';

type Services = Deps['services'];

const INTAKE_FIELDS = [
  'alias',
  'place',
  'source',
  'firstName',
  'lastName',
  'birthYear',
  'phone',
  'districtId',
  'situation',
] as const;

/** What the duplicates check compares, from a valid intake. */
const duplicateCriteria = (p: CreatePersonInput) => ({
  alias: p.alias ?? undefined,
  firstName: p.firstName ?? undefined,
  lastName: p.lastName ?? undefined,
  place: p.place ?? undefined,
  birthYear: p.birthYear ?? undefined,
  phone: p.phone ?? undefined,
});

/**
 * The mark of the values the "Déjà connu·e ?" candidates were shown for: the form sends it
 * back, and the same values then go on to be recorded; changed ones are checked again.
 */
const checkMark = (p: CreatePersonInput) =>
  crypto
    .createHash('sha256')
    .update(JSON.stringify(Object.values(duplicateCriteria(p)).map((v) => v ?? null)))
    .digest('hex')
    .slice(0, 32);

/** The persons list with its search, and the quick intake of a new person. */
export function personListWebRouter(services: Services): Router {
  const r = Router();

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
      droit: z.union([rightCode(), z.literal('')]).optional(),
      statutDroit: z.union([z.enum(RIGHT_STATUSES), z.literal('')]).optional(),
      raison: z.union([z.enum(NON_TAKE_UP_REASONS), z.literal('')]).optional(),
    })
    .strict();
  const SEARCH_FIELDS = ['q', 'statut', 'quartier', 'mes', 'droit', 'statutDroit', 'raison'];
  /** The search as its form shows it. */
  const searchValues = (f: Partial<NonNullable<Request['session']['personSearch']>> = {}) => ({
    q: f.q ?? '',
    statut: f.statut ?? '',
    quartier: f.quartier ?? '',
    mes: f.mes ? '1' : '',
    droit: f.droit ?? '',
    statutDroit: f.statutDroit ?? '',
    raison: f.raison ?? '',
  });

  async function renderPersons(
    req: Request,
    res: Response,
    opts: { page?: number; form?: FormState; status?: number } = {},
  ) {
    const f = {
      droit: '',
      statutDroit: '',
      raison: '',
      ...(req.session.personSearch ?? { q: '', statut: '', quartier: '', mes: false }),
    };
    const page = opts.page ?? 1;
    const actor = actorOf(req);
    const [result, ctx, districts, rights] = await Promise.all([
      services.persons.search(
        actor,
        {
          q: f.q || undefined,
          status: (f.statut || undefined) as PathStatus | undefined,
          district: f.quartier || undefined,
          referentId: f.mes ? 'me' : undefined,
          right: f.droit || undefined,
          rightStatus: (f.statutDroit || undefined) as RightStatus | undefined,
          reason: (f.raison || undefined) as NonTakeUpReason | undefined,
          page,
          pageSize: 20,
        },
        requestContext(req),
      ),
      pageContext(req, services.notifications),
      services.districts.list(actor, { archived: true }),
      services.rights.catalogue(actor, { archived: true }),
    ]);
    if (await redirectPastLastPage(req, res, result, personsPageHref, ctx.flash)) return;
    sendPage(
      res,
      <PersonsPage
        ctx={ctx}
        filters={{ ...f, page }}
        form={opts.form ?? emptyForm(searchValues(f))}
        districts={districts.items}
        rights={rights.items}
        result={result}
      />,
      opts.status ?? 200,
    );
  }

  r.get('/personnes', staff(), async (req, res) => {
    const q = pageQuery.safeParse(req.query);
    if (q.success) return renderPersons(req, res, { page: q.data.page });
    // An old link with the search in its address: the list as it stands, and a word by the
    // search field.
    const f = req.session.personSearch;
    return renderPersons(req, res, {
      status: 400,
      form: {
        values: searchValues(f),
        errors: { q: SEARCH_MESSAGES.address },
      },
    });
  });

  r.post('/personnes', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    if ((req.body as Record<string, unknown> | undefined)?.action === 'effacer') {
      delete req.session.personSearch;
      return saveAndRedirect(req, res, '/personnes');
    }
    const values = formValues(req.body, SEARCH_FIELDS);
    const parsed = parseWith(searchForm, compact(values), values, SEARCH_MESSAGES);
    if (!parsed.ok) return renderPersons(req, res, { form: parsed.form, status: 400 });
    const f = parsed.data;
    req.session.personSearch = {
      q: f.q ?? '',
      statut: f.statut ?? '',
      quartier: f.quartier ?? '',
      mes: Boolean(f.mes),
      droit: f.droit ?? '',
      statutDroit: f.statutDroit ?? '',
      raison: f.raison ?? '',
    };
    await saveAndRedirect(req, res, '/personnes');
  });

  // ---- Quick intake -------------------------------------------------------------------------
  r.get('/personnes/nouvelle', staff(), async (req, res) => {
    const [ctx, districts] = await Promise.all([
      pageContext(req, services.notifications),
      services.districts.list(actorOf(req)),
    ]);
    // A form kept when the session ended (server/web/kept-form.ts) comes back filled.
    const form =
      restoredForm(ctx, '/personnes/nouvelle', '#alias') ?? emptyForm({ source: 'outreach' });
    sendPage(res, <IntakePage ctx={ctx} form={form} districts={districts.items} />);
  });

  r.post('/personnes/nouvelle', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
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
    const createdRedirect = (personId: string) =>
      redirect(req, res, `/personnes/${personId}`, {
        type: 'success',
        message: 'La personne est enregistrée. Notez maintenant le premier contact.',
      });
    let form: FormState;
    let status = 400;
    if (parsed.ok) {
      try {
        const rc = creationContext(req);
        // "Déjà connu·e ?" once, before a new file is made; confirmed, the file is created (its
        // creation checks the references and answers a repeat itself).
        if (formValues(req.body, ['verifie']).verifie !== checkMark(parsed.data)) {
          // The form sent again (a second tap on a slow connection) after its first post made
          // the file: that file, as the first answer said, before "Déjà connu·e ?" offers it.
          const made = await services.persons.createdBefore(actor, parsed.data, rc);
          if (made) return createdRedirect(made.id);
          // Mistakes first (a district or référent of another structure), then the files that
          // look like this one.
          await services.persons.checkReferences(actor, parsed.data);
          const found = await services.personMerges.duplicates(
            actor,
            duplicateCriteria(parsed.data),
            requestContext(req),
          );
          if (found.items.length > 0) {
            const [ctx, districts] = await Promise.all([
              pageContext(req, services.notifications),
              services.districts.list(actor),
            ]);
            return sendPage(
              res,
              <IntakePage
                ctx={ctx}
                form={emptyForm(values)}
                districts={districts.items}
                candidates={found.items}
                checked={checkMark(parsed.data)}
              />,
            );
          }
        }
        const person = await services.persons.create(actor, parsed.data, rc);
        return createdRedirect(person.id);
      } catch (err) {
        const refused = formRefusal(err, values, INTAKE_MESSAGES);
        if (!refused) throw err;
        ({ form, status } = refused);
      }
    } else form = parsed.form;
    const [ctx, districts] = await Promise.all([
      pageContext(req, services.notifications),
      services.districts.list(actor),
    ]);
    sendPage(res, <IntakePage ctx={ctx} form={form} districts={districts.items} />, status);
  });

  return r;
}
