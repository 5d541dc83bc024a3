import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { createPartnerBody } from '../../features/partners/partner-schemas';
import { requestContext } from '../../features/audit/audit-repository';
import { AppError, NotFoundError } from '../../lib/errors';
import { personLabel, parseParisLocal, toParisLocalInput } from '../format';
import { csrf, pageContext } from '../page-context';
import { sendPage } from '../render';
import { REFERRAL_STATUSES } from '../../features/referrals/referral-state';
import {
  AdminPartnersPage,
  PersonReferralsPage,
  ReferralDetailPage,
  ReferralListPage,
} from './referral-views';
import { actorOf, idOf, page, redirect } from '../page-helpers';

type Services = Deps['services'];

const uuid = z.uuid();
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** French words for the service's refusals; the API codes never reach the screen. */
export function frenchError(err: AppError): string {
  switch (err.code) {
    case 'consent_required':
      return 'La personne n’a pas donné son accord pour être orientée vers ce partenaire : enregistrez d’abord son consentement.';
    case 'consent_expired':
      return 'Le consentement de la personne pour ce partenaire a expiré : enregistrez un nouveau consentement.';
    case 'consent_revoked':
      return 'La personne a retiré son consentement pour ce partenaire.';
    case 'partner_stale':
    case 'service_stale':
      return 'Ce partenaire ou ce service n’a pas été revu depuis 6 mois et n’est plus proposé.';
    case 'validation_failed':
      return /reason/.test(err.message)
        ? 'Indiquez une raison (un motif de refus codé pour un refus).'
        : 'Certains champs sont manquants ou invalides.';
    case 'conflict':
      return 'Cette demande a changé entre-temps : ce passage n’est plus possible.';
    case 'forbidden':
      return 'Vous ne pouvez pas faire cette action sur cette demande.';
    default:
      return 'L’action n’a pas pu être enregistrée.';
  }
}

/**
 * Referral pages: the partner inbox and the workers' list (/orientations), one referral with
 * its history, the person file's referral and consent page, and the admin partner directory.
 */
export function referralWebRouter(services: Services, now: () => Date): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);
  const referralRoles = () => hasRole(...PERSON_ROLES, 'partner');

  /** Runs a write; a refusal comes back as a French flash message on the page. */
  async function attempt(
    req: Request,
    res: Response,
    to: string,
    ok: string,
    fn: () => Promise<unknown>,
  ) {
    try {
      await fn();
      await redirect(req, res, to, { type: 'success', message: ok });
    } catch (err) {
      if (err instanceof AppError && err.status < 500 && err.status !== 404) {
        return await redirect(req, res, to, { type: 'error', message: frenchError(err) });
      }
      throw err;
    }
  }

  r.get(
    '/orientations',
    referralRoles(),
    page(async (req, res) => {
      const actor = actorOf(req);
      const status = (REFERRAL_STATUSES as readonly string[]).includes(String(req.query.status))
        ? (String(req.query.status) as (typeof REFERRAL_STATUSES)[number])
        : undefined;
      const mine = req.query.mine === 'true';
      const list = await services.referrals.list(
        actor,
        { mine, status, page: 1, pageSize: 100 },
        requestContext(req),
      );
      sendPage(
        res,
        <ReferralListPage
          ctx={await pageContext(req, services.notifications)}
          items={list.items}
          total={list.total}
          mine={mine}
          status={status ?? ''}
        />,
      );
    }),
  );

  r.get(
    '/orientations/:id',
    referralRoles(),
    page(async (req, res) => {
      const view = await services.referrals.get(actorOf(req), idOf(req), requestContext(req));
      sendPage(
        res,
        <ReferralDetailPage ctx={await pageContext(req, services.notifications)} r={view} />,
      );
    }),
  );

  r.post(
    '/orientations/:id/transition',
    referralRoles(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const id = idOf(req);
      const body = req.body as Record<string, unknown>;
      const to = String(body.to ?? '');
      if (!(REFERRAL_STATUSES as readonly string[]).includes(to) || to === 'requested')
        throw new NotFoundError('Page');
      await attempt(req, res, `/orientations/${id}`, 'Demande mise à jour.', () =>
        services.referrals.transition(
          actorOf(req),
          id,
          {
            to: to as Exclude<(typeof REFERRAL_STATUSES)[number], 'requested'>,
            reason: str(body.reason),
            outcome: str(body.outcome),
          },
          requestContext(req),
        ),
      );
    }),
  );

  r.get(
    '/personnes/:id/orientations',
    staff(),
    page(async (req, res) => {
      const actor = actorOf(req);
      const personId = idOf(req);
      const rc = requestContext(req);
      const person = await services.persons.get(actor, personId, rc);
      const [consents, referrals, partners] = await Promise.all([
        services.consents.list(actor, personId),
        services.referrals.list(actor, { personId, page: 1, pageSize: 100 }, rc),
        services.partners.list({ offerable: true }),
      ]);
      sendPage(
        res,
        <PersonReferralsPage
          ctx={await pageContext(req, services.notifications)}
          personId={personId}
          personName={personLabel(person)}
          consents={consents.items}
          referrals={referrals.items as never}
          partners={partners.items}
          nowLocal={toParisLocalInput(now()).slice(0, 16)}
        />,
      );
    }),
  );

  r.post(
    '/personnes/:id/consentements',
    staff(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const personId = idOf(req);
      const body = req.body as Record<string, unknown>;
      const givenAt = parseParisLocal(String(body.givenAt ?? '')) ?? now();
      const shared = ([] as unknown[]).concat(body.sharedFields ?? []).map(String);
      await attempt(
        req,
        res,
        `/personnes/${personId}/orientations`,
        'Consentement enregistré.',
        async () => {
          const partnerId = uuid.safeParse(body.partnerId);
          if (!partnerId.success) throw new AppError(400, 'validation_failed', 'partnerId');
          return services.consents.record(
            actorOf(req),
            personId,
            {
              purpose: 'referral',
              partnerId: partnerId.data,
              method: body.method === 'written' ? 'written' : 'oral',
              givenAt,
              sharedFields: shared.filter((f): f is 'phone' | 'email' | 'address' =>
                ['phone', 'email', 'address'].includes(f),
              ),
            },
            requestContext(req),
          );
        },
      );
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
      const body = req.body as Record<string, unknown>;
      await attempt(
        req,
        res,
        `/personnes/${personId}/orientations`,
        'Demande envoyée au partenaire.',
        async () => {
          const partnerId = uuid.safeParse(body.partnerId);
          const serviceId = str(body.serviceId);
          const reason = str(body.reason);
          if (!partnerId.success || !reason)
            throw new AppError(400, 'validation_failed', 'partnerId or reason');
          return services.referrals.create(
            actorOf(req),
            personId,
            {
              partnerId: partnerId.data,
              serviceId: serviceId && uuid.safeParse(serviceId).success ? serviceId : undefined,
              reason,
              sharedSummary: str(body.sharedSummary),
            },
            requestContext(req),
          );
        },
      );
    }),
  );

  r.get(
    '/admin/partenaires',
    hasRole('admin'),
    page(async (req, res) => {
      const partners = await services.partners.list({});
      sendPage(
        res,
        <AdminPartnersPage
          ctx={await pageContext(req, services.notifications)}
          partners={partners.items}
        />,
      );
    }),
  );

  r.post(
    '/admin/partenaires',
    hasRole('admin'),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const b = req.body as Record<string, unknown>;
      const parsed = createPartnerBody.safeParse({
        name: str(b.name),
        email: str(b.email),
        ...(str(b.phone) ? { phone: str(b.phone) } : {}),
        ...(str(b.area) ? { area: str(b.area) } : {}),
        ...(str(b.howToReach) ? { howToReach: str(b.howToReach) } : {}),
        services: [
          {
            name: str(b.serviceName),
            themes: (str(b.themes) ?? '')
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
            ...(str(b.responseDelayDays) ? { responseDelayDays: Number(b.responseDelayDays) } : {}),
          },
        ],
      });
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
        return redirect(req, res, '/admin/partenaires', {
          type: 'error',
          message: `Partenaire non ajouté : vérifiez ${fields}.`,
        });
      }
      await attempt(req, res, '/admin/partenaires', 'Partenaire ajouté.', () =>
        services.partners.create(actorOf(req), parsed.data, requestContext(req)),
      );
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
