import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import type { Partner } from '../../features/partners/partner-repository';
import {
  createPartnerBody,
  saveServiceBody,
  updatePartnerBody,
} from '../../features/partners/partner-schemas';
import { hasCode, NotFoundError } from '../../lib/errors';
import {
  changedFields,
  compact,
  formList,
  formValues,
  issueMessage,
  parseWith,
  versionField,
  type Messages,
} from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, creationContext, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import { AdminPartnersPage, PartnerEditPage, ServicePage } from './partner-admin-views';
import { audienceLabel, themeLabel } from './partner-labels';
import { refusedForm } from './refusals';

type Services = Deps['services'];

const PARTNER_TEXT_FIELDS = [
  'name',
  'email',
  'phone',
  'website',
  'area',
  'howToReach',
  'description',
] as const;
/** The creation form: the partner, and its first service's name and delay. */
const NEW_PARTNER_FIELDS = [...PARTNER_TEXT_FIELDS, 'serviceName', 'responseDelayDays'] as const;
const SERVICE_TEXT_FIELDS = [
  'name',
  'description',
  'area',
  'howToReach',
  'responseDelayDays',
] as const;
/** With the version it was read at, kept in what a refused form shows back (as a partner's). */
const SERVICE_FORM_FIELDS = [...SERVICE_TEXT_FIELDS, 'version'] as const;

const DELAY_MESSAGE = 'Indiquez un nombre entier de jours ouvrés, de 1 à 60';
const THEMES_MESSAGE = 'Cochez au moins une thématique';

const PARTNER_MESSAGES: Messages = {
  name: 'Indiquez le nom du partenaire',
  email: 'Indiquez une adresse électronique, par exemple contact@partenaire.fr',
  phone: 'Indiquez un numéro de téléphone, par exemple 01 23 45 67 89',
  website: 'Indiquez une adresse web en http:// ou https://, par exemple https://www.partenaire.fr',
  serviceName: 'Indiquez le nom du service',
  themes: THEMES_MESSAGE,
  audience: 'Choisissez les publics dans la liste',
  responseDelayDays: DELAY_MESSAGE,
};

const SERVICE_MESSAGES: Messages = {
  name: 'Indiquez le nom du service',
  themes: THEMES_MESSAGE,
  audience: PARTNER_MESSAGES.audience,
  responseDelayDays: DELAY_MESSAGE,
};

/** The service's refusal of a name another service of the partner bears. */
const sameName = (field: string) => ({
  conflict: { field, message: 'Un autre service de ce partenaire porte déjà ce nom.' },
});

/** A form's values with its ticked boxes (themes, audience) joined by commas. */
function withLists(body: unknown, fields: readonly string[]) {
  const values = formValues(body, fields);
  const lists = { themes: formList(body, 'themes'), audience: formList(body, 'audience') };
  values.themes = lists.themes.join(',');
  values.audience = lists.audience.join(',');
  return { values, ...lists };
}

/** The response delay as typed: a whole number, or absent (the structure's delay applies). */
function delayOf(text: string | undefined, errors: Record<string, string>) {
  if (text === undefined) return {};
  if (!/^\s*\d{1,2}\s*$/.test(text)) {
    errors.responseDelayDays = DELAY_MESSAGE;
    return {};
  }
  return { responseDelayDays: Number(text) };
}

/** The non-empty text fields, as the API's optional keys (an empty one is left out). */
function pick(given: Record<string, string>, fields: readonly string[]) {
  return Object.fromEntries(fields.filter((f) => given[f] !== undefined).map((f) => [f, given[f]]));
}

function serviceFrom(given: Record<string, string>, themes: string[], audience: string[]) {
  return {
    ...pick(given, ['description', 'area', 'howToReach']),
    themes,
    ...(audience.length ? { audience } : {}),
  };
}

/** The creation form is flat; the API nests its first service, so issues map back to fields. */
function parseNewPartner(body: unknown) {
  const { values, themes, audience } = withLists(body, NEW_PARTNER_FIELDS);
  const given = compact(values);
  const errors: Record<string, string> = {};
  const delay = delayOf(given.responseDelayDays, errors);
  const res = createPartnerBody.safeParse({
    ...pick(given, PARTNER_TEXT_FIELDS),
    name: given.name ?? '',
    email: given.email ?? '',
    services: [{ name: given.serviceName ?? '', ...serviceFrom({}, themes, audience), ...delay }],
  });
  if (!res.success) {
    for (const issue of res.error.issues) {
      const [top, , inner] = issue.path.map(String);
      const field = top === 'services' ? (inner === 'name' ? 'serviceName' : inner) : top;
      errors[field] ??= issueMessage(issue, field, values, PARTNER_MESSAGES);
    }
  }
  if (!res.success || Object.keys(errors).length > 0)
    return { ok: false as const, form: { values, errors } };
  return { ok: true as const, data: res.data };
}

function parseService(body: unknown) {
  const { values, themes, audience } = withLists(body, SERVICE_FORM_FIELDS);
  const given = compact(values);
  const errors: Record<string, string> = {};
  const delay = delayOf(given.responseDelayDays, errors);
  return parseWith(
    saveServiceBody,
    {
      name: given.name ?? '',
      ...serviceFrom(given, themes, audience),
      ...delay,
      ...versionField(body),
    },
    values,
    SERVICE_MESSAGES,
    errors,
  );
}

/** The forms show what is saved: every value a string, lists joined by commas. */
function partnerValues(p: Partner): Record<string, string> {
  return {
    name: p.name,
    email: p.email,
    phone: p.phone ?? '',
    website: p.website ?? '',
    area: p.area ?? '',
    howToReach: p.howToReach ?? '',
    description: p.description ?? '',
  };
}

function serviceValues(s: Partner['services'][number]): Record<string, string> {
  return {
    name: s.name,
    description: s.description ?? '',
    themes: s.themes.join(','),
    audience: s.audience.join(','),
    area: s.area ?? '',
    howToReach: s.howToReach ?? '',
    responseDelayDays: s.responseDelayDays === null ? '' : String(s.responseDelayDays),
  };
}

/**
 * The admin partner directory: the list with a creation form, one partner's description,
 * adding and editing its services (themes and publics of the data·inclusion vocabulary, area,
 * how to reach, response delay). Every form comes back with what was typed when refused.
 * The list shows the whole directory; only the partners of the admin's structure are editable,
 * and the edit pages of any other partner answer 404, as for an unknown one.
 */
export function partnerAdminRouter(services: Services): Router {
  const r = Router();
  const admin = () => hasRole('admin');
  const ctxFor = (req: Request) => pageContext(req, services.notifications);

  /** The whole directory, the partners of the admin's structure (editable) first. */
  async function renderList(req: Request, res: Response, form: FormState, status = 200) {
    const [partners, editable, ctx] = await Promise.all([
      services.partners.list({}),
      services.partners.editableIds(actorOf(req)),
      ctxFor(req),
    ]);
    sendPage(
      res,
      <AdminPartnersPage
        ctx={ctx}
        own={partners.items.filter((p) => editable.has(p.id))}
        others={partners.items.filter((p) => !editable.has(p.id))}
        form={form}
      />,
      status,
    );
  }

  /** A partner's page; a stale form (a 409) beside what is saved now. */
  async function renderPartner(
    req: Request,
    res: Response,
    partner: Partner,
    form?: FormState,
    status = 200,
  ) {
    const ctx = await ctxFor(req);
    sendPage(
      res,
      <PartnerEditPage
        ctx={ctx}
        partner={partner}
        form={form ?? emptyForm(partnerValues(partner))}
        changed={form?.stale ? changedFields(form.values, partnerValues(partner)) : undefined}
      />,
      status,
    );
  }

  /**
   * The partner and, when `serviceId` is given, its service; a 404 otherwise, and for a partner
   * of another structure.
   */
  async function serviceOf(req: Request, partnerId: string, serviceId: string | null) {
    const partner = await services.partners.getToEdit(actorOf(req), partnerId);
    if (serviceId === null) return { partner, service: null };
    const service = partner.services.find((s) => s.id === serviceId);
    if (!service) throw new NotFoundError('Service');
    return { partner, service };
  }

  async function renderService(
    req: Request,
    res: Response,
    partnerId: string,
    serviceId: string | null,
    form?: FormState,
    status = 200,
  ) {
    const [{ partner, service }, ctx] = await Promise.all([
      serviceOf(req, partnerId, serviceId),
      ctxFor(req),
    ]);
    const shown = form ?? emptyForm(service ? serviceValues(service) : {});
    const changed =
      form?.stale && service
        ? changedFields(shown.values, serviceValues(service), {
            lists: ['themes', 'audience'],
            show: (name, raw) =>
              name === 'themes'
                ? raw.split(',').map(themeLabel).join(', ')
                : name === 'audience'
                  ? raw.split(',').map(audienceLabel).join(', ')
                  : raw,
          })
        : undefined;
    sendPage(
      res,
      <ServicePage ctx={ctx} partner={partner} service={service} form={shown} changed={changed} />,
      status,
    );
  }

  r.get('/admin/partenaires', admin(), async (req, res) => renderList(req, res, emptyForm()));

  r.post('/admin/partenaires', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const parsed = parseNewPartner(req.body);
    if (!parsed.ok) return renderList(req, res, parsed.form, 400);
    try {
      await services.partners.create(actorOf(req), parsed.data, creationContext(req));
    } catch (err) {
      const values = withLists(req.body, NEW_PARTNER_FIELDS).values;
      const refused = refusedForm(err, values, PARTNER_MESSAGES, sameName('serviceName'));
      if (!refused) throw err;
      return renderList(req, res, refused.form, refused.status);
    }
    await redirect(req, res, '/admin/partenaires', {
      type: 'success',
      message: 'Partenaire ajouté.',
    });
  });

  r.get('/admin/partenaires/:id', admin(), async (req, res) =>
    renderPartner(req, res, await services.partners.getToEdit(actorOf(req), idOf(req))),
  );

  r.post('/admin/partenaires/:id', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    // The version stays in what is shown back: a refused form corrected and saved again is still
    // checked against the version it was read at (a 409 shows it at the saved one: staleForm).
    const values = formValues(req.body, [...PARTNER_TEXT_FIELDS, 'version']);
    const given = compact(values);
    const parsed = parseWith(
      updatePartnerBody,
      {
        ...pick(given, PARTNER_TEXT_FIELDS),
        name: given.name ?? '',
        email: given.email ?? '',
        ...versionField(req.body),
      },
      values,
      PARTNER_MESSAGES,
    );
    if (!parsed.ok) {
      const partner = await services.partners.getToEdit(actorOf(req), id);
      return renderPartner(req, res, partner, parsed.form, 400);
    }
    let saved: { partner: Partner; emailChangeIssued: boolean };
    try {
      saved = await services.partners.update(actorOf(req), id, parsed.data, requestContext(req));
    } catch (err) {
      // Changed meanwhile: the typing stays, beside what is saved now, at the saved version.
      if (!hasCode(err, 'stale_version')) throw err;
      const current = (err.details as { current: Partner }).current;
      return renderPartner(req, res, current, staleForm(values), 409);
    }
    // Only an edit that asked for a new address sent a link; a pending one stays on the page.
    await redirect(req, res, `/admin/partenaires/${id}`, {
      type: 'success',
      message: saved.emailChangeIssued
        ? `Partenaire enregistré. La nouvelle adresse ${parsed.data.email} sera utilisée une fois confirmée depuis cette adresse : un lien lui est envoyé.`
        : 'Partenaire enregistré.',
    });
  });

  // A new address waiting for confirmation is withdrawn (mistyped): its link stops working.
  r.post(
    '/admin/partenaires/:id/adresse-en-attente/retrait',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      const { partner, withdrawnEmail } = await services.partners.withdrawEmailChange(
        actorOf(req),
        id,
        requestContext(req),
      );
      await redirect(
        req,
        res,
        `/admin/partenaires/${id}`,
        withdrawnEmail
          ? {
              type: 'success',
              message: `Nouvelle adresse ${withdrawnEmail} retirée : son lien de confirmation ne fonctionne plus. Les demandes d’orientation partent toujours à ${partner.email}.`,
            }
          : {
              type: 'info',
              message: `Aucune nouvelle adresse n’attendait de confirmation : les demandes d’orientation partent à ${partner.email}.`,
            },
      );
    },
  );

  r.post(
    '/admin/partenaires/:id/revue',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      await services.partners.review(actorOf(req), idOf(req), requestContext(req));
      await redirect(req, res, '/admin/partenaires', {
        type: 'success',
        message: 'Partenaire revu.',
      });
    },
  );

  // "nouveau" before ":serviceId", which would read it as an id.
  r.get('/admin/partenaires/:id/services/nouveau', admin(), async (req, res) =>
    renderService(req, res, idOf(req), null),
  );

  /** Adding (no service id) or editing a service: the same form, the same service call. */
  const saveService =
    (withId: boolean) =>
    async (req: Request, res: Response): Promise<void> => {
      const partnerId = idOf(req);
      const serviceId = withId ? idOf(req, 'serviceId') : null;
      const parsed = parseService(req.body);
      if (!parsed.ok) return renderService(req, res, partnerId, serviceId, parsed.form, 400);
      try {
        await services.partners.saveService(
          actorOf(req),
          partnerId,
          serviceId,
          parsed.data,
          requestContext(req),
        );
      } catch (err) {
        const values = withLists(req.body, SERVICE_FORM_FIELDS).values;
        // Changed meanwhile: the typing stays, beside what is saved now, at the saved version.
        if (hasCode(err, 'stale_version'))
          return renderService(req, res, partnerId, serviceId, staleForm(values), 409);
        const refused = refusedForm(err, values, SERVICE_MESSAGES, sameName('name'));
        if (!refused) throw err;
        return renderService(req, res, partnerId, serviceId, refused.form, refused.status);
      }
      await redirect(req, res, `/admin/partenaires/${partnerId}`, {
        type: 'success',
        message: serviceId
          ? `Service « ${parsed.data.name} » enregistré.`
          : `Service « ${parsed.data.name} » ajouté.`,
      });
    };

  r.post(
    '/admin/partenaires/:id/services',
    admin(),
    csrf.csrfSynchronisedProtection,
    saveService(false),
  );

  r.get('/admin/partenaires/:id/services/:serviceId', admin(), async (req, res) =>
    renderService(req, res, idOf(req), idOf(req, 'serviceId')),
  );

  r.post(
    '/admin/partenaires/:id/services/:serviceId',
    admin(),
    csrf.csrfSynchronisedProtection,
    saveService(true),
  );

  return r;
}
