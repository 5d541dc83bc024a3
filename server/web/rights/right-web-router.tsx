import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../features/audit/audit-repository';
import { createRightBody, rightCode, updateRightBody } from '../../features/rights/right-schemas';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { formValues, parseWith } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, page, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { RIGHT_ADMIN_MESSAGES } from './right-labels';
import { AdminRightsPage, type RightForm } from './right-views';

type Services = Deps['services'];

const versionOf = (body: unknown) => {
  const v = Number(formValues(body, ['version']).version);
  return Number.isInteger(v) && v >= 1 ? v : 0;
};

/** A right's code in a page's address; a malformed one is a page that does not exist. */
function codeOf(req: Request): string {
  const res = rightCode().safeParse(req.params.code);
  if (!res.success) throw new NotFoundError('Page');
  return res.data;
}

const STALE = {
  type: 'error' as const,
  message: 'Ce droit a été modifié entre-temps ; la page est à jour, recommencez si besoin.',
};

/** The admin pages of the catalogue of rights and aids, over the rights service. */
export function rightWebRouter(services: Services): Router {
  const r = Router();
  const admin = () => hasRole('admin');

  async function renderList(
    req: Request,
    res: Response,
    form: FormState,
    failed?: RightForm,
    status = 200,
  ) {
    const [rights, ctx] = await Promise.all([
      services.rights.catalogue(actorOf(req), { archived: true }),
      pageContext(req, services.notifications),
    ]);
    sendPage(
      res,
      <AdminRightsPage ctx={ctx} rights={rights.items} form={form} failed={failed} />,
      status,
    );
  }

  r.get(
    '/admin/droits',
    admin(),
    page(async (req, res) => renderList(req, res, emptyForm())),
  );

  r.post(
    '/admin/droits',
    admin(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const values = formValues(req.body, ['code', 'label']);
      const parsed = parseWith(
        createRightBody,
        { code: values.code?.trim() ?? '', label: values.label ?? '' },
        values,
        RIGHT_ADMIN_MESSAGES,
      );
      if (!parsed.ok) return renderList(req, res, parsed.form, undefined, 400);
      try {
        await services.rights.create(actorOf(req), parsed.data, requestContext(req));
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        return renderList(
          req,
          res,
          { values, errors: { code: 'Un droit du catalogue porte déjà ce code.' } },
          undefined,
          409,
        );
      }
      await redirect(req, res, '/admin/droits', {
        type: 'success',
        message: `Aide « ${parsed.data.label} » ajoutée au catalogue.`,
      });
    }),
  );

  r.post(
    '/admin/droits/:code',
    admin(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const code = codeOf(req);
      const values = formValues(req.body, ['label']);
      const parsed = parseWith(
        updateRightBody,
        { label: values.label ?? '', version: versionOf(req.body) },
        values,
        RIGHT_ADMIN_MESSAGES,
      );
      if (!parsed.ok) return renderList(req, res, emptyForm(), { code, form: parsed.form }, 400);
      try {
        const right = await services.rights.update(
          actorOf(req),
          code,
          parsed.data,
          requestContext(req),
        );
        await redirect(req, res, '/admin/droits', {
          type: 'success',
          message: `Droit renommé « ${right.label} ».`,
        });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        await redirect(req, res, '/admin/droits', STALE);
      }
    }),
  );

  const archiveForm = z
    .object({
      _csrf: z.string(),
      version: z.coerce.number().int().min(1),
      archived: z.enum(['true', 'false']),
    })
    .strict();

  r.post(
    '/admin/droits/:code/archive',
    admin(),
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const code = codeOf(req);
      const body = archiveForm.safeParse(req.body ?? {});
      if (!body.success) throw new NotFoundError('Page');
      const archived = body.data.archived === 'true';
      try {
        const right = await services.rights.update(
          actorOf(req),
          code,
          { archived, version: body.data.version },
          requestContext(req),
        );
        await redirect(req, res, '/admin/droits', {
          type: 'success',
          message: archived
            ? `Droit « ${right.label} » archivé : il n’est plus proposé.`
            : `Droit « ${right.label} » restauré.`,
        });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        await redirect(req, res, '/admin/droits', STALE);
      }
    }),
  );

  return r;
}
