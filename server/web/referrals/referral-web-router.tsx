import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { createConsentBody } from '../../features/consents/consent-schemas';
import { requestContext } from '../../http/request-context';
import { createReferralBody, transitionBody } from '../../features/referrals/referral-schemas';
import { OPEN_STATUSES, REFERRAL_STATUSES } from '../../features/referrals/referral-state';
import { hasCode, ValidationError } from '../../lib/errors';
import {
  parseWith,
  compact,
  dateField,
  formList,
  formRefusal,
  formValues,
  type Messages,
  versionField,
} from '../forms';
import { formatDateTime, personLabel, toParisLocalInput } from '../format';
import { csrf, pageContext } from '../page-context';
import { restoredForm } from '../kept-form';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import {
  ConsentRevokePage,
  PersonReferralsPage,
  ReferralDetailPage,
  ReferralListPage,
  referralListHref,
  type MoveAttempt,
} from './referral-views';
import {
  actorOf,
  creationContext,
  idOf,
  LIST_PAGE_SIZE,
  pageQuery,
  redirect,
  redirectPastLastPage,
} from '../page-helpers';
import { partnerAdminRouter } from './partner-admin-router';
import { partnerReportBody } from '../../features/reports/report-schemas';
import { REPORT_MESSAGES } from '../reports/report-labels';
import { PartnerReportSection } from '../reports/report-views';
import { CONSENT_REFUSALS, refusedForm } from './refusals';

type Services = Deps['services'];

const CONSENT_FIELDS = ['partnerId', 'method', 'givenAt', 'expiresAt'] as const;
const REFERRAL_FIELDS = ['partnerId', 'serviceId', 'rightCode', 'reason', 'sharedSummary'] as const;
const TRANSITION_FIELDS = ['to', 'reason', 'outcome', 'version'] as const;

const CONSENT_MESSAGES: Messages = {
  partnerId: 'Choisissez le partenaire vers lequel la personne accepte d’être orientée',
  method: 'Indiquez si l’accord a été recueilli à l’oral ou par écrit',
  givenAt: 'Indiquez la date et l’heure de l’accord, par exemple 21/11/2026 10:00',
  'givenAt:date_in_future':
    'La date de l’accord est dans le futur : indiquez quand la personne l’a donné, au plus tard maintenant',
  expiresAt:
    'Indiquez la date et l’heure de fin de l’accord, par exemple 21/11/2027 10:00, ou laissez le champ vide',
  'expiresAt:expires_before_given':
    'La fin de l’accord doit venir après la date à laquelle il a été donné',
  sharedFields: 'Choisissez parmi le téléphone, le courriel et l’adresse',
};

const REFERRAL_MESSAGES: Messages = {
  partnerId: 'Choisissez un partenaire de l’annuaire',
  serviceId: 'Choisissez un service de ce partenaire',
  reason: 'Indiquez le motif de l’orientation',
  rightCode: 'Choisissez un droit du catalogue',
};

const TRANSITION_MESSAGES: Messages = {
  to: 'Cette action n’existe pas pour une demande',
  reason: 'Indiquez une raison',
  // The move forms offer no reason field where none is taken: only a forged post gets this.
  'reason:not_taken':
    'Une raison n’accompagne qu’un refus, une annulation, une mise en pause ou un échec : rien n’a été enregistré',
  version: 'Cette page n’est plus valable : rechargez-la avant de répondre',
};
const REJECTION_MESSAGES: Messages = {
  ...TRANSITION_MESSAGES,
  reason: 'Indiquez une raison : choisissez un motif de refus',
};

/**
 * A move form's fields as the API's input: the hidden version the page was read at becomes a
 * number (a form without one moves without the check; a mangled one fails on `version`).
 */
function moveInput(values: Record<string, string>): Record<string, unknown> {
  const given = compact(values);
  const { version: _shown, ...move } = given;
  return { ...move, ...versionField(given) };
}

/**
 * The list filters as the filter form sends them ("Tous" is an empty status), and the page of
 * the list (the page links keep the filters).
 */
const listFilters = pageQuery
  .extend({
    mine: z.literal('true').optional(),
    status: z.union([z.enum(REFERRAL_STATUSES), z.literal('')]).optional(),
  })
  .strict();

/**
 * Referral pages: the partner inbox and the workers' list (/orientations), one referral with
 * its history, the person file's referral and consent page; the admin partner directory is in
 * partner-admin-router.
 * A refused form comes back with what was typed and the reason next to each field; only a
 * success redirects.
 */
export function referralWebRouter(services: Services, now: () => Date): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);
  const referralRoles = () => hasRole(...PERSON_ROLES, 'partner');
  const ctxFor = (req: Request) => pageContext(req, services.notifications);

  r.get('/orientations', referralRoles(), async (req, res) => renderInbox(req, res));

  // A partner reports someone from their inbox; the form comes back with what was typed.
  r.post(
    '/orientations/signaler',
    hasRole('partner'),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const values = formValues(req.body, ['location', 'who', 'concern']);
      const parsed = parseWith(partnerReportBody, values, values, REPORT_MESSAGES);
      if (!parsed.ok) return renderInbox(req, res, parsed.form, 400);
      let receipt;
      try {
        receipt = await services.reports.submitByPartner(
          actorOf(req),
          parsed.data,
          creationContext(req),
        );
      } catch (err) {
        const refused = formRefusal(err, values, REPORT_MESSAGES);
        if (!refused) throw err;
        return renderInbox(req, res, refused.form, refused.status);
      }
      await redirect(req, res, '/orientations#signaler', {
        type: 'success',
        message: `Signalement envoyé. Numéro de reçu : ${receipt.receiptNumber}.`,
      });
    },
  );

  async function renderInbox(req: Request, res: Response, reportForm = emptyForm(), code = 200) {
    const parsed = listFilters.safeParse(req.query);
    if (!parsed.success) {
      throw new ValidationError('Invalid query parameter', [
        { field: 'query', message: 'Le filtre n’est pas valide' },
      ]);
    }
    const mine = parsed.data.mine === 'true';
    const status = parsed.data.status || undefined;
    const { page } = parsed.data;
    const [list, ctx] = await Promise.all([
      services.referrals.list(
        actorOf(req),
        { mine, status, page, pageSize: LIST_PAGE_SIZE },
        requestContext(req),
      ),
      ctxFor(req),
    ]);
    // A page past the end (the list shrank since its link was made) leads to the last one; a
    // partner's report form sent back is shown where it was typed, never behind a redirect.
    const href = referralListHref({ mine, status: status ?? '' });
    if (code === 200 && (await redirectPastLastPage(req, res, list, href, ctx.flash))) return;
    const actor = actorOf(req);
    const sent =
      actor.role === 'partner'
        ? await services.reports.sent(actor, { page: 1, pageSize: 20 })
        : null;
    sendPage(
      res,
      <ReferralListPage
        ctx={ctx}
        list={list}
        mine={mine}
        status={status ?? ''}
        hasErrors={Object.keys(reportForm.errors).length > 0}
      >
        {sent ? <PartnerReportSection ctx={ctx} form={reportForm} sent={sent} /> : null}
      </ReferralListPage>,
      code,
    );
  }

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
    // A move kept when the session ended (server/web/kept-form.ts) comes back in its form while
    // the referral is as the page showed it; moved since, the page shows what was typed.
    const kept = ctx.kept?.values;
    const form =
      !move && kept?.to && Number(kept.version) === view.version
        ? restoredForm(ctx, `/orientations/${id}/transition`, '#actions')
        : undefined;
    const shown = move ?? (form && kept?.to ? { to: kept.to, form } : undefined);
    // Staff see the person's file, and a link to update the right an ended referral served.
    const rightForms =
      'personId' in view && view.right
        ? await services.rights.updateForms(actorOf(req), view.personId)
        : undefined;
    // Staff are offered the cancellation and the re-sent link by who acts for the requester.
    const requesterSide =
      'personId' in view ? await services.referrals.requesterSide(actorOf(req), id) : undefined;
    sendPage(
      res,
      <ReferralDetailPage
        ctx={ctx}
        r={view}
        move={shown}
        rightForms={rightForms}
        requesterSide={requesterSide}
      />,
      status,
    );
  }

  r.get('/orientations/:id', referralRoles(), async (req, res) =>
    renderReferral(req, res, idOf(req)),
  );

  r.post(
    '/orientations/:id/transition',
    referralRoles(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      const values = formValues(req.body, TRANSITION_FIELDS);
      const messages = values.to === 'rejected' ? REJECTION_MESSAGES : TRANSITION_MESSAGES;
      const parsed = parseWith(transitionBody, moveInput(values), values, messages);
      if (!parsed.ok)
        return renderReferral(req, res, id, { to: values.to ?? '', form: parsed.form }, 400);
      try {
        await services.referrals.transition(actorOf(req), id, parsed.data, requestContext(req));
      } catch (err) {
        // Someone moved it since the page was read: the page shows where it is now, with what
        // was typed, and the form carries the new version, so sending again is a choice.
        if (hasCode(err, 'stale_version')) {
          const move = { to: parsed.data.to, form: staleForm(values) };
          return renderReferral(req, res, id, move, 409);
        }
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
    },
  );

  /** Why a link could not be sent again, in French, by the refusal's code. */
  const RESEND_REFUSALS: Record<string, string> = {
    referral_closed: 'Cette demande est close : le partenaire n’a plus de lien à recevoir.',
    reminders_off:
      'Les rappels sont suspendus pour cette personne, ou sa fiche est close : aucun courriel ne partirait. Reprenez les rappels pour renvoyer le lien.',
    consent_expired:
      'Le consentement de la personne pour ce partenaire a expiré : enregistrez un nouveau consentement avant de renvoyer le lien.',
  };

  // A partner without an account whose link expired or went astray gets a fresh one by email.
  r.post('/orientations/:id/lien', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    let sent;
    try {
      sent = await services.referrals.resendLink(actorOf(req), id, requestContext(req));
    } catch (err) {
      const code = hasCode(err, ...Object.keys(RESEND_REFUSALS)) ? err.code : null;
      if (!code) throw err;
      return redirect(req, res, `/orientations/${id}`, {
        type: 'error',
        message: RESEND_REFUSALS[code],
      });
    }
    const what =
      sent.purpose === 'respond'
        ? 'un nouveau lien pour répondre à la demande'
        : 'un nouveau lien pour indiquer si l’aide a été apportée';
    await redirect(req, res, `/orientations/${id}`, {
      type: 'success',
      message:
        sent.dueAt.getTime() > now().getTime()
          ? `Le partenaire recevra par courriel ${what} le ${formatDateTime(sent.dueAt)}, aux heures ouvrées.`
          : `Le partenaire reçoit par courriel ${what}, valable 8 jours.`,
    });
  });

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
    const [person, consents, referrals, partners, ctx, rights, rightForms] = await Promise.all([
      services.persons.get(actor, personId, rc),
      services.consents.list(actor, personId, rc),
      services.referrals.list(actor, { personId, page: 1, pageSize: 100 }, rc),
      services.partners.list({ offerable: true }),
      ctxFor(req),
      services.rights.catalogue(actor),
      services.rights.updateForms(actor, personId),
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
        rights={rights.items}
        rightForms={rightForms}
        consentForm={
          forms.consent ?? emptyForm({ method: 'oral', givenAt: toParisLocalInput(now()) })
        }
        referralForm={
          forms.referral ??
          restoredForm(ctx, `/personnes/${personId}/orientations`, '#orienter') ??
          emptyForm()
        }
      />,
      status,
    );
  }

  r.get('/personnes/:id/orientations', staff(), async (req, res) =>
    renderPersonReferrals(req, res, idOf(req), {}),
  );

  r.post(
    '/personnes/:id/consentements',
    staff(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const personId = idOf(req);
      const values = formValues(req.body, CONSENT_FIELDS);
      const shared = formList(req.body, 'sharedFields');
      values.sharedFields = shared.join(',');
      const errors: Record<string, string> = {};
      const givenAt = dateField(values, 'givenAt', errors, CONSENT_MESSAGES.givenAt, true);
      const expiresAt = dateField(values, 'expiresAt', errors, CONSENT_MESSAGES.expiresAt, false);
      const { partnerId, method } = compact(values);
      const parsed = parseWith(
        createConsentBody,
        {
          purpose: 'referral',
          ...(partnerId ? { partnerId } : {}),
          ...(method ? { method } : {}),
          givenAt: givenAt ?? '',
          ...(expiresAt ? { expiresAt } : {}),
          ...(shared.length ? { sharedFields: shared } : {}),
        },
        values,
        CONSENT_MESSAGES,
        errors,
      );
      if (!parsed.ok)
        return renderPersonReferrals(req, res, personId, { consent: parsed.form }, 400);
      try {
        await services.consents.record(actorOf(req), personId, parsed.data, creationContext(req));
      } catch (err) {
        const refused = refusedForm(err, values, CONSENT_MESSAGES, CONSENT_REFUSALS);
        if (!refused) throw err;
        return renderPersonReferrals(req, res, personId, { consent: refused.form }, refused.status);
      }
      await redirect(req, res, `/personnes/${personId}/orientations`, {
        type: 'success',
        message: 'Consentement enregistré.',
      });
    },
  );

  /** A consent withdrawn already leads to the person's referrals, saying so. */
  const alreadyRevoked = (req: Request, res: Response, personId: string) =>
    redirect(req, res, `/personnes/${personId}/orientations`, {
      type: 'info',
      message: 'Ce consentement est déjà retiré.',
    });

  // Withdrawing a consent cancels the partner's open referrals of the person: a page says so and
  // asks to confirm first, without JavaScript. Reading it changes nothing.
  r.get('/consentements/:id/retrait', staff(), async (req, res) => {
    const actor = actorOf(req);
    const rc = requestContext(req);
    const consent = await services.consents.get(actor, idOf(req), rc);
    if (consent.revokedAt) return alreadyRevoked(req, res, consent.personId);
    const [person, referrals, ctx] = await Promise.all([
      services.persons.get(actor, consent.personId, rc),
      services.referrals.list(actor, { personId: consent.personId, page: 1, pageSize: 100 }, rc),
      ctxFor(req),
    ]);
    const open = referrals.items.filter(
      (x) => x.partner.id === consent.partnerId && OPEN_STATUSES.includes(x.status),
    );
    sendPage(
      res,
      <ConsentRevokePage
        ctx={ctx}
        consent={consent}
        personName={personLabel(person)}
        openReferrals={open.length}
      />,
    );
  });

  r.post(
    '/consentements/:id/retrait',
    staff(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      // Only the confirmation page's button withdraws; any other post is sent to that page.
      if (formValues(req.body, ['confirmation']).confirmation !== 'oui')
        return res.redirect(303, `/consentements/${idOf(req)}/retrait`);
      const actor = actorOf(req);
      const rc = requestContext(req);
      let revoked;
      try {
        revoked = await services.consents.revoke(actor, idOf(req), rc);
      } catch (err) {
        // Withdrawn meanwhile (a double click, a colleague): said as the question page says it.
        if (!hasCode(err, 'conflict')) throw err;
        const consent = await services.consents.get(actor, idOf(req), rc);
        if (!consent.revokedAt) throw err;
        return alreadyRevoked(req, res, consent.personId);
      }
      const n = revoked.cancelledReferralIds.length;
      await redirect(req, res, `/personnes/${revoked.personId}/orientations`, {
        type: 'success',
        message: `Consentement retiré.${n ? ` ${n} orientation${n > 1 ? 's annulées' : ' annulée'}.` : ''}`,
      });
    },
  );

  r.post(
    '/personnes/:id/orientations',
    staff(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const personId = idOf(req);
      const values = formValues(req.body, REFERRAL_FIELDS);
      const parsed = parseWith(createReferralBody, compact(values), values, REFERRAL_MESSAGES);
      if (!parsed.ok)
        return renderPersonReferrals(req, res, personId, { referral: parsed.form }, 400);
      try {
        await services.referrals.create(actorOf(req), personId, parsed.data, creationContext(req));
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
    },
  );

  r.use(partnerAdminRouter(services));

  return r;
}
