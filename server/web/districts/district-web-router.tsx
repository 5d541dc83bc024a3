import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { createDistrictBody, updateDistrictBody } from '../../features/districts/district-schemas';
import { hasCode } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import { archiveForm, formValues, parseWith, resentForm, versionField } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, creationContext, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import { DISTRICT_MESSAGES, NAME_TAKEN } from './district-labels';
import { AdminDistrictsPage, districtAnchor, type DistrictForm } from './district-views';

type Services = Deps['services'];

const FIELDS = ['name', 'code', 'qpv'] as const;

const STALE_DISTRICT = {
  type: 'error' as const,
  message: 'Ce quartier a été modifié entre-temps ; la page est à jour, recommencez si besoin.',
};

/** The form's strings as the API's input: an empty code is none, the ticked box is true. */
const toInput = (values: Record<string, string>) => ({
  name: values.name ?? '',
  code: values.code?.trim() ? values.code : null,
  qpv: values.qpv === '1',
});

/** The admin page of the structure's districts (quartiers), over the districts service. */
export function districtWebRouter(services: Services): Router {
  const r = Router();
  const admin = () => hasRole('admin');

  async function renderList(
    req: Request,
    res: Response,
    form: FormState,
    failed?: DistrictForm,
    status = 200,
  ) {
    const [districts, ctx] = await Promise.all([
      services.districts.list(actorOf(req), { archived: true }),
      pageContext(req, services.notifications),
    ]);
    sendPage(
      res,
      <AdminDistrictsPage ctx={ctx} districts={districts.items} form={form} failed={failed} />,
      status,
    );
  }

  r.get('/admin/quartiers', admin(), (req, res) => renderList(req, res, emptyForm()));

  r.post('/admin/quartiers', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, FIELDS);
    const { code, ...rest } = toInput(values);
    const parsed = parseWith(
      createDistrictBody,
      { ...rest, ...(code !== null ? { code } : {}) },
      values,
      DISTRICT_MESSAGES,
    );
    if (!parsed.ok) return renderList(req, res, parsed.form, undefined, 400);
    try {
      const district = await services.districts.create(
        actorOf(req),
        parsed.data,
        creationContext(req),
      );
      await redirect(req, res, `/admin/quartiers#${districtAnchor(district.id)}`, {
        type: 'success',
        message: `Quartier « ${district.name} » ajouté.`,
      });
    } catch (err) {
      const resent = resentForm(err, values);
      if (resent) return renderList(req, res, resent, undefined, 422);
      if (!hasCode(err, 'conflict')) throw err;
      return renderList(req, res, { values, errors: { name: NAME_TAKEN } }, undefined, 409);
    }
  });

  r.post('/admin/quartiers/:id', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    // The version stays in what is shown back: a refused form corrected and saved again is still
    // checked against the version it was read at (a 409 shows it at the saved one: staleForm).
    const values = formValues(req.body, [...FIELDS, 'version']);
    const parsed = parseWith(
      updateDistrictBody,
      { ...toInput(values), ...versionField(req.body) },
      values,
      DISTRICT_MESSAGES,
    );
    if (!parsed.ok) return renderList(req, res, emptyForm(), { id, form: parsed.form }, 400);
    try {
      const district = await services.districts.update(
        actorOf(req),
        id,
        parsed.data,
        requestContext(req),
      );
      await redirect(req, res, `/admin/quartiers#${districtAnchor(id)}`, {
        type: 'success',
        message: `Quartier « ${district.name} » enregistré.`,
      });
    } catch (err) {
      // Changed meanwhile: the list as it is now, the typing kept in its form at the saved
      // version, so saving again is a choice.
      if (hasCode(err, 'stale_version'))
        return renderList(req, res, emptyForm(), { id, form: staleForm(values) }, 409);
      if (!hasCode(err, 'conflict')) throw err;
      return renderList(
        req,
        res,
        emptyForm(),
        { id, form: { values, errors: { name: NAME_TAKEN } } },
        409,
      );
    }
  });

  r.post(
    '/admin/quartiers/:id/archive',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      const body = parseInput(archiveForm, req.body ?? {}, 'body');
      const archived = body.archived === 'true';
      try {
        const district = await services.districts.update(
          actorOf(req),
          id,
          { archived, version: body.version },
          requestContext(req),
        );
        await redirect(req, res, `/admin/quartiers#${districtAnchor(id)}`, {
          type: 'success',
          message: archived
            ? `Quartier « ${district.name} » archivé : il n’est plus proposé.`
            : `Quartier « ${district.name} » restauré.`,
        });
      } catch (err) {
        if (!hasCode(err, 'stale_version')) throw err;
        await redirect(req, res, '/admin/quartiers', STALE_DISTRICT);
      }
    },
  );

  return r;
}
