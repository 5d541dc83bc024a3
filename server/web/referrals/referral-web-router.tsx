import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { createConsentBody } from '../../features/consents/consent-schemas';
import { createPartnerBody } from '../../features/partners/partner-schemas';
import { requestContext } from '../../features/audit/audit-repository';
import { createReferralBody, transitionBody } from '../../features/referrals/referral-schemas';
import { REFERRAL_STATUSES } from '../../features/referrals/referral-state';
import { AppError, ValidationError } from '../../lib/errors';
import {
  compact,
  dateField,
  formFromServiceError,
  formValues,
  parseWith,
  type Messages,
} from '../forms';
import { personLabel, toParisLocalInput } from '../format';
import { csrf, pageContext } from '../page-context';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import {
  AdminPartnersPage,
  PersonReferralsPage,
  ReferralDetailPage,
  ReferralListPage,
  type MoveAttempt,
} from './referral-views';
import { actorOf, idOf, page, redirect } from '../page-helpers';

type Services = Deps['services'];

const CONSENT_FIELDS = ['partnerId', 'method', 'givenAt'] as const;
const REFERRAL_FIELDS = ['partnerId', 'serviceId', 'reason', 'sharedSummary'] as const;
const TRANSITION_FIELDS = ['to', 'reason', 'outcome'] as const;
const PARTNER_FIELDS = [
  'name',
  'email',
  'phone',
  'area',
  'howToReach',
  'serviceName',
  'themes',
  'responseDelayDays',
] as const;

const CONSENT_MESSAGES: Messages = {
  partnerId: 'Choisissez le partenaire vers lequel la personne accepte d’être orientée',
  method: 'Indiquez si l’accord a été recueilli à l’oral ou par écrit',
  givenAt: 'Indiquez la date et l’heure de l’accord, par exemple 21/11/2026 10:00',
  sharedFields: 'Choisissez parmi le téléphone, le courriel et l’adresse',
};

const REFERRAL_MESSAGES: Messages = {
  partnerId: 'Choisissez un partenaire de l’annuaire',
  serviceId: 'Choisissez un service de ce partenaire',
  reason: 'Indiquez le motif de l’orientation (2 000 caractères au plus)',
  sharedSummary: 'Les éléments à partager font 4 000 caractères au plus',
};

const TRANSITION_MESSAGES: Messages = {
  to: 'Cette action n’existe pas pour une demande',
  reason: 'Indiquez une raison (500 caractères au plus)',
  outcome: 'Le résultat fait 2 000 caractères au plus',
};
const REJECTION_MESSAGES: Messages = {
  ...TRANSITION_MESSAGES,
  reason: 'Indiquez une raison : choisissez un motif de refus',
};

const PARTNER_MESSAGES: Messages = {
  name: 'Indiquez le nom du partenaire (200 caractères au plus)',
  email: 'Indiquez une adresse électronique, par exemple contact@partenaire.fr',
  phone: 'Indiquez un numéro de téléphone, par exemple 01 23 45 67 89',
  area: 'La zone d’intervention fait 200 caractères au plus',
  howToReach: 'Ce texte fait 1 000 caractères au plus',
  serviceName: 'Indiquez le nom du service (200 caractères au plus)',
  themes: 'Indiquez au moins une thématique data·inclusion, par exemple equipement-et-alimentation',
  responseDelayDays: 'Indiquez un nombre entier de jours ouvrés, de 1 à 60',
};

/**
 * French words for the service's refusals, chosen by the error's stable code and shown next to
 * the field they concern (`_form` when none does).
 */
const REFUSALS: Record<string, { field?: string; message: string }> = {
  consent_required: {
    field: 'partnerId',
    message:
      'La personne n’a pas donné son accord pour être orientée vers ce partenaire : enregistrez d’abord son consentement.',
  },
  consent_expired: {
    field: 'partnerId',
    message:
      'Le consentement de la personne pour ce partenaire a expiré : enregistrez un nouveau consentement.',
  },
  consent_revoked: {
    field: 'partnerId',
    message:
      'La personne a retiré son consentement pour ce partenaire : enregistrez un nouveau consentement.',
  },
  partner_stale: {
    field: 'partnerId',
    message: 'Ce partenaire n’a pas été revu depuis 6 mois et n’est plus proposé.',
  },
  service_stale: {
    field: 'serviceId',
    message: 'Ce service n’a pas été revu depuis 6 mois et n’est plus proposé.',
  },
  conflict: { message: 'Cette demande a changé entre-temps : ce passage n’est plus possible.' },
  forbidden: { message: 'Vous ne pouvez pas faire cette action sur cette demande.' },
};

/**
 * A refused write as the form shows it back: field errors for invalid input (400), the French
 * refusal for a forbidden, conflicting or rule-breaking one, with its own status. Anything else
 * (404, 5xx) is not the form's business and goes to the error page.
 */
function refusedForm(
  err: unknown,
  values: Record<string, string>,
  messages: Messages,
  refusals: Record<string, { field?: string; message: string }> = REFUSALS,
): { form: FormState; status: number } | null {
  const invalid = formFromServiceError(err, values, messages);
  if (invalid) return { form: invalid, status: 400 };
  if (!(err instanceof AppError) || ![403, 409, 422].includes(err.status)) return null;
  const r = refusals[err.code] ?? { message: 'L’action n’a pas pu être enregistrée.' };
  return { form: { values, errors: { [r.field ?? '_form']: r.message } }, status: err.status };
}

const SERVICE_FIELD: Record<string, string> = {
  name: 'serviceName',
  themes: 'themes',
  responseDelayDays: 'responseDelayDays',
};

/** The admin form is flat; the API nests its one service, so issues are mapped back to fields. */
function parsePartnerForm(values: Record<string, string>) {
  const given = compact(values);
  const errors: Record<string, string> = {};
  let delay: number | undefined;
  if (given.responseDelayDays !== undefined) {
    delay = /^\s*\d+\s*$/.test(given.responseDelayDays) ? Number(given.responseDelayDays) : NaN;
    if (Number.isNaN(delay)) errors.responseDelayDays = PARTNER_MESSAGES.responseDelayDays;
  }
  const res = createPartnerBody.safeParse({
    name: given.name ?? '',
    email: given.email ?? '',
    ...(given.phone ? { phone: given.phone } : {}),
    ...(given.area ? { area: given.area } : {}),
    ...(given.howToReach ? { howToReach: given.howToReach } : {}),
    services: [
      {
        name: given.serviceName ?? '',
        themes: (given.themes ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        ...(delay !== undefined && !Number.isNaN(delay) ? { responseDelayDays: delay } : {}),
      },
    ],
  });
  if (!res.success) {
    for (const issue of res.error.issues) {
      const [top, , inner] = issue.path.map(String);
      const field = top === 'services' ? (SERVICE_FIELD[inner] ?? 'serviceName') : top;
      errors[field] ??= PARTNER_MESSAGES[field] ?? 'Cette valeur n’est pas valide';
    }
  }
  if (!res.success || Object.keys(errors).length > 0)
    return { ok: false as const, form: { values, errors } };
  return { ok: true as const, data: res.data };
}

/** The list filters as the filter form sends them ("Tous" is an empty status). */
const listFilters = z
  .object({
    mine: z.literal('true').optional(),
    status: z.union([z.enum(REFERRAL_STATUSES), z.literal('')]).optional(),
  })
  .strict();

/**
 * Referral pages: the partner inbox and the workers' list (/orientations), one referral with
 * its history, the person file's referral and consent page, and the admin partner directory.
 * A refused form comes back with what was typed and the reason next to each field; only a
 * success redirects.
 */
export function referralWebRouter(services: Services, now: () => Date): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);
  const referralRoles = () => hasRole(...PERSON_ROLES, 'partner');
  const ctxFor = (req: Request) => pageContext(req, services.notifications);

  r.get(
    '/orientations',
    referralRoles(),
    page(async (req, res) => {
      const parsed = listFilters.safeParse(req.query);
      if (!parsed.success) {
        throw new ValidationError('Invalid query parameter', [
          { field: 'query', message: 'Le filtre n’est pas valide' },
        ]);
      }
      const mine = parsed.data.mine === 'true';
      const status = parsed.data.status || undefined;
      const [list, ctx] = await Promise.all([
        services.referrals.list(
          actorOf(req),
          { mine, status, page: 1, pageSize: 100 },
          requestContext(req),
        ),
        ctxFor(req),
      ]);
      sendPage(
        res,
        <ReferralListPage
          ctx={ctx}
          items={list.items}
          total={list.total}
          mine={mine}
          status={status ?? ''}
        />,
      );
    }),
  );

  async function renderReferral(
    req: Request,
    res: Response,
    id: string,
    move?: MoveAttempt,
    status = 200,
  ) {
    const [view, ctx] = await Promise.all([
      services.referrals.get(actorOf(req), id, requestContext(req)),
      ctxFor(req),
    ]);
    sendPage(res, <ReferralDetailPage ctx={ctx} r={view} move={move} />, status);
  }

  r.get(
    '/orientations/:id',
    referralRoles(),
    page(async (req, res) => renderReferral(req, res, idOf(req))),
  );

  r.post(
    '/orientations/:id/transition',
    referralRoles(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const id = idOf(req);
      const values = formValues(req.body, TRANSITION_FIELDS);
      const messages = values.to === 'rejected' ? REJECTION_MESSAGES : TRANSITION_MESSAGES;
      const parsed = parseWith(transitionBody, compact(values), values, messages);
      if (!parsed.ok)
        return renderReferral(req, res, id, { to: values.to ?? '', form: parsed.form }, 400);
      try {
        await services.referrals.transition(actorOf(req), id, parsed.data, requestContext(req));
      } catch (err) {
        const refused = refusedForm(err, values, messages);
        if (!refused) throw err;
        return renderReferral(
          req,
          res,
          id,
          { to: parsed.data.to, form: refused.form },
          refused.status,
        );
      }
      await redirect(req, res, `/orientations/${id}`, {
        type: 'success',
        message: 'Demande mise à jour.',
      });
    }),
  );

  async function renderPersonReferrals(
    req: Request,
    res: Response,
    personId: string,
    forms: { consent?: FormState; referral?: FormState },
    status = 200,
  ) {
    const actor = actorOf(req);
    const rc = requestContext(req);
    // Each read is scoped to the actor's structure, so they need not wait for the person's.
    const [person, consents, referrals, partners, ctx] = await Promise.all([
      services.persons.get(actor, personId, rc),
      services.consents.list(actor, personId),
      services.referrals.list(actor, { personId, page: 1, pageSize: 100 }, rc),
      services.partners.list({ offerable: true }),
      ctxFor(req),
    ]);
    sendPage(
      res,
      <PersonReferralsPage
        ctx={ctx}
        personId={personId}
        personName={personLabel(person)}
        consents={consents.items}
        referrals={referrals.items}
        partners={partners.items}
        consentForm={
          forms.consent ?? emptyForm({ method: 'oral', givenAt: toParisLocalInput(now()) })
        }
        referralForm={forms.referral ?? emptyForm()}
      />,
      status,
    );
  }

  r.get(
    '/personnes/:id/orientations',
    staff(),
    page(async (req, res) => renderPersonReferrals(req, res, idOf(req), {})),
  );

  r.post(
    '/personnes/:id/consentements',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const personId = idOf(req);
      const values = formValues(req.body, CONSENT_FIELDS);
      // Checkboxes of one name arrive as a string or an array of strings.
      const raw = (req.body as Record<string, unknown> | undefined)?.sharedFields;
      const shared = ([] as unknown[]).concat(raw ?? []).filter((f) => typeof f === 'string');
      values.sharedFields = shared.join(',');
      const errors: Record<string, string> = {};
      const givenAt = dateField(values, 'givenAt', errors, CONSENT_MESSAGES.givenAt, true);
      const { partnerId, method } = compact(values);
      const parsed = parseWith(
        createConsentBody,
        {
          purpose: 'referral',
          ...(partnerId ? { partnerId } : {}),
          ...(method ? { method } : {}),
          givenAt: givenAt ?? '',
          ...(shared.length ? { sharedFields: shared } : {}),
        },
        values,
        CONSENT_MESSAGES,
        errors,
      );
      if (!parsed.ok)
        return renderPersonReferrals(req, res, personId, { consent: parsed.form }, 400);
      try {
        await services.consents.record(actorOf(req), personId, parsed.data, requestContext(req));
      } catch (err) {
        const refused = refusedForm(err, values, CONSENT_MESSAGES);
        if (!refused) throw err;
        return renderPersonReferrals(req, res, personId, { consent: refused.form }, refused.status);
      }
      await redirect(req, res, `/personnes/${personId}/orientations`, {
        type: 'success',
        message: 'Consentement enregistré.',
      });
    }),
  );

  r.post(
    '/consentements/:id/retrait',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const revoked = await services.consents.revoke(actorOf(req), idOf(req), requestContext(req));
      const n = revoked.cancelledReferralIds.length;
      await redirect(req, res, `/personnes/${revoked.personId}/orientations`, {
        type: 'success',
        message: `Consentement retiré.${n ? ` ${n} orientation${n > 1 ? 's annulées' : ' annulée'}.` : ''}`,
      });
    }),
  );

  r.post(
    '/personnes/:id/orientations',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const personId = idOf(req);
      const values = formValues(req.body, REFERRAL_FIELDS);
      const parsed = parseWith(createReferralBody, compact(values), values, REFERRAL_MESSAGES);
      if (!parsed.ok)
        return renderPersonReferrals(req, res, personId, { referral: parsed.form }, 400);
      try {
        await services.referrals.create(actorOf(req), personId, parsed.data, requestContext(req));
      } catch (err) {
        const refused = refusedForm(err, values, REFERRAL_MESSAGES);
        if (!refused) throw err;
        return renderPersonReferrals(
          req,
          res,
          personId,
          { referral: refused.form },
          refused.status,
        );
      }
      await redirect(req, res, `/personnes/${personId}/orientations`, {
        type: 'success',
        message: 'Demande envoyée au partenaire.',
      });
    }),
  );

  async function renderPartners(req: Request, res: Response, form: FormState, status = 200) {
    const [partners, ctx] = await Promise.all([services.partners.list({}), ctxFor(req)]);
    sendPage(res, <AdminPartnersPage ctx={ctx} partners={partners.items} form={form} />, status);
  }

  r.get(
    '/admin/partenaires',
    hasRole('admin'),
    page(async (req, res) => renderPartners(req, res, emptyForm())),
  );

  r.post(
    '/admin/partenaires',
    hasRole('admin'),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const values = formValues(req.body, PARTNER_FIELDS);
      const parsed = parsePartnerForm(values);
      if (!parsed.ok) return renderPartners(req, res, parsed.form, 400);
      try {
        await services.partners.create(actorOf(req), parsed.data, requestContext(req));
      } catch (err) {
        const refused = refusedForm(err, values, PARTNER_MESSAGES, {
          conflict: { field: 'serviceName', message: 'Deux services portent le même nom.' },
        });
        if (!refused) throw err;
        return renderPartners(req, res, refused.form, refused.status);
      }
      await redirect(req, res, '/admin/partenaires', {
        type: 'success',
        message: 'Partenaire ajouté.',
      });
    }),
  );

  r.post(
    '/admin/partenaires/:id/revue',
    hasRole('admin'),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      await services.partners.review(actorOf(req), idOf(req), requestContext(req));
      await redirect(req, res, '/admin/partenaires', {
        type: 'success',
        message: 'Partenaire revu.',
      });
    }),
  );

  return r;
}
