import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import {
  AMOUNT_STATUS,
  createRightBody,
  REASON_STATUS,
  rightCode,
  setPersonRightBody,
  updateRightBody,
} from '../../features/rights/right-schemas';
import { hasCode, NotFoundError } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import {
  ANONYMISED_TEXT,
  archiveForm,
  parseWith,
  changedFields,
  compact,
  formValues,
  resentForm,
  versionField,
} from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, creationContext, idOf, redirect, staff } from '../page-helpers';
import type { RenderPerson } from '../persons/person-file-router';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import { PERSON_RIGHT_MESSAGES, RIGHT_ADMIN_MESSAGES, RIGHT_STATUS_LABELS } from './right-labels';
import type { PersonRight } from '../../features/rights/right-service';
import { AdminRightsPage, rightAnchor, rightFormValues, type RightForm } from './right-views';

type Services = Deps['services'];

const PERSON_RIGHT_FIELDS = ['status', 'reason', 'monthlyAmount', 'note'] as const;

/** A right's code in a page's address; a malformed one is a page that does not exist. */
function codeOf(req: Request): string {
  const res = rightCode().safeParse(req.params.code);
  if (!res.success) throw new NotFoundError('Page');
  return res.data;
}

/**
 * An amount as typed in French ("287,50 €", "1 500"): a number of euros, or null when it is not
 * one. At most two digits follow the separator, so "1.500" or "1,500" (a thousands separator,
 * which would read as 1,50 €) is refused rather than saved as 1,50 €.
 */
function euros(text: string | undefined): number | null | undefined {
  const t = text?.replace(/[\s€]/g, '') ?? '';
  if (!t) return undefined;
  return /^\d+([.,]\d{1,2})?$/.test(t) ? Number(t.replace(',', '.')) : null;
}

const STALE_RIGHT = {
  type: 'error' as const,
  message: 'Ce droit a été modifié entre-temps ; la page est à jour, recommencez si besoin.',
};

/**
 * A person's rights set from their file (one small form per right, and one to start tracking
 * another), and the admin pages of the catalogue of rights and aids, over the rights service.
 */
export function rightWebRouter(services: Services, renderPerson: RenderPerson): Router {
  const r = Router();
  const admin = () => hasRole('admin');

  // ---- A person's right: set or start tracking one ----------------------------------------
  r.post('/personnes/:id/droits', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const personId = idOf(req);
    const values = formValues(req.body, [...PERSON_RIGHT_FIELDS, 'code', 'version']);
    const code = values.code?.trim() ?? '';
    const { version } = versionField(values);
    // The form adding a right says version 0; a tracked right's form, the version it showed.
    const formCode = version !== undefined && version > 0 ? code : '';
    const shown = {
      ...Object.fromEntries(PERSON_RIGHT_FIELDS.map((f) => [f, values[f] ?? ''])),
      ...(formCode === '' ? { code } : {}),
    };
    const fail = (form: FormState, status: number) =>
      renderPerson(req, res, personId, { right: { code: formCode, form } }, status);
    const errors: Record<string, string> = {};
    if (!rightCode().safeParse(code).success) errors.code = 'Choisissez un droit dans la liste';
    const monthlyAmount = euros(values.monthlyAmount);
    if (monthlyAmount === null) errors.monthlyAmount = PERSON_RIGHT_MESSAGES.monthlyAmount;
    const given = compact(values);
    const parsed = parseWith(
      setPersonRightBody,
      {
        status: given.status ?? '',
        // A tracked right's form keeps its old reason selected: moving on from not claimed
        // drops it rather than refusing the move.
        ...(given.reason && given.status === REASON_STATUS ? { reason: given.reason } : {}),
        // And its saved amount filled in: moving on from obtained drops it too. On the form
        // adding a right the amount was typed, so a status it does not fit is said instead.
        ...(typeof monthlyAmount === 'number' && (formCode === '' || given.status === AMOUNT_STATUS)
          ? { monthlyAmount }
          : {}),
        ...(given.note ? { note: given.note } : {}),
        ...(version !== undefined ? { version } : {}),
      },
      shown,
      PERSON_RIGHT_MESSAGES,
      errors,
    );
    if (!parsed.ok) return fail(parsed.form, 400);
    const saved = (right: PersonRight) =>
      redirect(req, res, `/personnes/${personId}#${rightAnchor(code)}`, {
        type: 'success',
        message: `Droit « ${right.label} » : ${RIGHT_STATUS_LABELS[right.status].toLowerCase()}.`,
      });
    try {
      await saved(
        await services.rights.setForPerson(
          actorOf(req),
          personId,
          code,
          parsed.data,
          requestContext(req),
        ),
      );
    } catch (err) {
      if (hasCode(err, 'stale_version')) {
        // What this form asked for is what stands now (sent twice, the first saved it; or a
        // colleague set the same): it is saved, and the page says so.
        const current = (err.details as { current: PersonRight | null }).current;
        const asked = rightFormValues({
          status: parsed.data.status,
          reason: parsed.data.reason ?? null,
          monthlyAmount: parsed.data.monthlyAmount ?? null,
          note: parsed.data.note ?? null,
        });
        if (current && Object.keys(changedFields(asked, rightFormValues(current))).length === 0)
          return saved(current);
        // Changed (or started) by someone else since the page was read: the file shows the
        // right as it is now, its form open with what was typed and the saved version, so
        // saving again is a choice.
        return renderPerson(req, res, personId, { right: { code, form: staleForm(shown) } }, 409);
      }
      if (hasCode(err, 'anonymised'))
        return fail({ values: shown, errors: { _form: ANONYMISED_TEXT } }, 409);
      // Refused only for a person who does not track the right (maySetRight): whichever form
      // sent it, the form adding a right shows why, with what was typed.
      if (hasCode(err, 'right_archived'))
        return renderPerson(
          req,
          res,
          personId,
          {
            right: {
              code: '',
              form: {
                values: { ...shown, code },
                errors: {
                  code: 'Ce droit est archivé : il n’est plus proposé pour un nouveau suivi. Choisissez-en un autre, ou demandez à un administrateur de le restaurer.',
                },
              },
            },
          },
          422,
        );
      // An unknown right (the person was found: a missing person stays the 404 page).
      if (hasCode(err, 'right_not_found'))
        return fail({ values: shown, errors: { code: 'Choisissez un droit dans la liste' } }, 400);
      throw err;
    }
  });

  // ---- The catalogue (admins) -----------------------------------------------------------------
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

  r.get('/admin/droits', admin(), async (req, res) => renderList(req, res, emptyForm()));

  r.post('/admin/droits', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['code', 'label']);
    const parsed = parseWith(
      createRightBody,
      { code: values.code?.trim() ?? '', label: values.label ?? '' },
      values,
      RIGHT_ADMIN_MESSAGES,
    );
    if (!parsed.ok) return renderList(req, res, parsed.form, undefined, 400);
    try {
      await services.rights.create(actorOf(req), parsed.data, creationContext(req));
    } catch (err) {
      const resent = resentForm(err, values);
      if (resent) return renderList(req, res, resent, undefined, 422);
      if (!hasCode(err, 'conflict')) throw err;
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
  });

  r.post('/admin/droits/:code', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const code = codeOf(req);
    const values = formValues(req.body, ['label']);
    const parsed = parseWith(
      updateRightBody,
      { label: values.label ?? '', ...versionField(req.body) },
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
      if (!hasCode(err, 'stale_version')) throw err;
      // The catalogue as it is now, the typed label kept in its form at the saved version.
      return renderList(req, res, emptyForm(), { code, form: staleForm(values) }, 409);
    }
  });

  r.post(
    '/admin/droits/:code/archive',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const code = codeOf(req);
      const body = parseInput(archiveForm, req.body ?? {}, 'body');
      const archived = body.archived === 'true';
      try {
        const right = await services.rights.update(
          actorOf(req),
          code,
          { archived, version: body.version },
          requestContext(req),
        );
        await redirect(req, res, '/admin/droits', {
          type: 'success',
          message: archived
            ? `Droit « ${right.label} » archivé : il n’est plus proposé.`
            : `Droit « ${right.label} » restauré.`,
        });
      } catch (err) {
        if (!hasCode(err, 'stale_version')) throw err;
        await redirect(req, res, '/admin/droits', STALE_RIGHT);
      }
    },
  );

  return r;
}
