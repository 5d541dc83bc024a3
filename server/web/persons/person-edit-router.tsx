import { Router, type Request, type Response } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import type { Person } from '../../features/persons/person-repository';
import { requestContext } from '../../http/request-context';
import { updatePersonBody } from '../../features/persons/person-schemas';
import { hasCode } from '../../lib/errors';
import {
  ANONYMISED_TEXT,
  changedFields,
  parseWith,
  formFromServiceError,
  formValues,
  INTAKE_MESSAGES,
  type Messages,
  versionField,
} from '../forms';
import { SOURCE_LABELS } from '../format';
import { csrf, pageContext } from '../page-context';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import { PersonEditPage, type Conflict } from './person-edit-page';
import { actorOf, idOf, redirect } from '../page-helpers';
import {
  CLOSED_REASON_LABELS,
  districtLabel,
  GENDER_LABELS,
  HOUSEHOLD_LABELS,
} from './person-labels';

type Services = Deps['services'];

const TEXT_FIELDS = [
  'alias',
  'place',
  'firstName',
  'lastName',
  'phone',
  'email',
  'address',
] as const;
const CHOICE_FIELDS = ['gender', 'householdType', 'districtId', 'referentId'] as const;
/** Every person field the form edits, in the order the conflict list names them. */
const EDIT_FIELDS = [
  'alias',
  'place',
  'firstName',
  'lastName',
  'birthYear',
  'gender',
  'phone',
  'email',
  'address',
  'districtId',
  'householdType',
  'source',
  'referentId',
  'pauseReminders',
  'situation',
] as const;

const EDIT_MESSAGES: Messages = {
  ...INTAKE_MESSAGES,
  gender: 'Choisissez un genre dans la liste',
  email: 'Indiquez une adresse électronique, par exemple nom@exemple.fr',
  address: 'Indiquez l’adresse postale, ou laissez le champ vide',
  householdType: 'Choisissez une composition du foyer dans la liste',
  referentId: 'Choisissez un·e référent·e parmi les professionnels actifs de votre structure',
  pauseReminders: 'Cochez ou décochez la case',
  version: 'Cette page a expiré : rechargez-la, puis recommencez',
};

const CLOSE_MESSAGES: Messages = {
  closedReason: 'Choisissez le motif de clôture',
  version: EDIT_MESSAGES.version,
};

/** The person as the form shows it: every value a string, absent ones empty. */
function personFormValues(p: Person): Record<string, string> {
  const s = (v: string | number | null) => (v === null ? '' : String(v));
  return {
    alias: s(p.alias),
    place: s(p.place),
    firstName: s(p.firstName),
    lastName: s(p.lastName),
    birthYear: s(p.birthYear),
    gender: s(p.gender),
    phone: s(p.phone),
    email: s(p.email),
    address: s(p.address),
    districtId: s(p.districtId),
    householdType: s(p.householdType),
    source: p.source,
    referentId: s(p.referentId),
    pauseReminders: p.pauseReminders ? '1' : '',
    situation: s(p.situation),
    version: String(p.version),
    // Not the file's: the form's offer to move the follow-ups with the référent, ticked at first.
    moveFollowUps: '1',
  };
}

/**
 * A saved value as the user reads it, for the fields that differ from what they typed; empty
 * when nothing is saved.
 */
function savedDisplay(p: Person, field: string, raw: string): string {
  if (field === 'pauseReminders') return raw === '1' ? 'relances suspendues' : 'relances actives';
  if (raw === '') return '';
  switch (field) {
    case 'gender':
      return GENDER_LABELS[raw] ?? raw;
    case 'householdType':
      return HOUSEHOLD_LABELS[raw] ?? raw;
    case 'source':
      return SOURCE_LABELS[raw] ?? raw;
    case 'districtId':
      return p.districtName
        ? districtLabel({ name: p.districtName, qpv: Boolean(p.districtQpv) })
        : raw;
    case 'referentId':
      return p.referentName ?? 'un·e autre référent·e';
    default:
      return raw;
  }
}

/** Which fields the other editor saved differently from what this user typed. */
function conflictWith(current: Person, typed: Record<string, string>): Conflict {
  const saved = personFormValues(current);
  const fields = Object.fromEntries(EDIT_FIELDS.map((f) => [f, saved[f] ?? '']));
  return changedFields(typed, fields, {
    numbers: ['birthYear'],
    show: (f, raw) => savedDisplay(current, f, raw),
  });
}

/**
 * The form's strings as the API's PATCH: every field of the form is sent, an emptied optional
 * field becomes null (it is cleared), and an unchecked box is false.
 */
function toUpdateInput(values: Record<string, string>, preErrors: Record<string, string>) {
  const input: Record<string, unknown> = {};
  for (const f of TEXT_FIELDS) {
    if (values[f] === undefined) continue;
    const v = values[f].trim();
    input[f] = v === '' ? null : v;
  }
  for (const f of CHOICE_FIELDS) {
    if (values[f] === undefined) continue;
    input[f] = values[f] === '' ? null : values[f];
  }
  if (values.birthYear !== undefined) {
    const t = values.birthYear.trim();
    if (t === '') input.birthYear = null;
    else if (/^\d{4}$/.test(t)) input.birthYear = Number(t);
    else preErrors.birthYear = EDIT_MESSAGES.birthYear;
  }
  if (values.situation !== undefined)
    input.situation = values.situation.trim() === '' ? null : values.situation;
  if (values.source !== undefined) input.source = values.source;
  input.pauseReminders = values.pauseReminders === '1' || values.pauseReminders === 'on';
  // Required: a page without it is as expired as one with a wrong one.
  input.version = versionField(values).version ?? NaN;
  // The alias-or-name rule is the service's; checked here too so every mistake shows at once.
  if (input.alias === null && input.firstName === null && input.lastName === null)
    preErrors.alias = EDIT_MESSAGES.alias;
  return input;
}

/**
 * Completing, closing and reopening a person file from the web: the same service and policy as
 * PATCH /api/persons/:id, with the version in a hidden field.
 */
export function personEditWebRouter(services: Services): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);

  async function render(
    req: Request,
    res: Response,
    view: {
      person: Person;
      form: FormState;
      closeForm?: FormState;
      conflict?: Conflict;
    },
    status = 200,
  ) {
    const actor = actorOf(req);
    const [ctx, districts, referents] = await Promise.all([
      pageContext(req, services.notifications),
      services.districts.list(actor, { archived: true }),
      services.persons.listReferents(actor),
    ]);
    sendPage(
      res,
      <PersonEditPage
        ctx={ctx}
        person={view.person}
        form={view.form}
        closeForm={view.closeForm ?? emptyForm()}
        districts={districts.items}
        referents={referents}
        conflict={view.conflict}
      />,
      status,
    );
  }

  r.get('/personnes/:id/modifier', staff(), async (req, res) => {
    const person = await services.persons.get(actorOf(req), idOf(req), requestContext(req));
    await render(req, res, { person, form: emptyForm(personFormValues(person)) });
  });

  r.post('/personnes/:id/modifier', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const actor = actorOf(req);
    const rc = requestContext(req);
    const values = formValues(req.body, [...EDIT_FIELDS, 'version', 'moveFollowUps']);
    values.pauseReminders = values.pauseReminders ? '1' : '';
    // Unticked, the box sends nothing: the form comes back as the user left it.
    values.moveFollowUps = values.moveFollowUps === '1' ? '1' : '';
    const preErrors: Record<string, string> = {};
    const input = toUpdateInput(values, preErrors);
    const parsed = parseWith(updatePersonBody, input, values, EDIT_MESSAGES, preErrors);
    if (!parsed.ok) {
      const person = await services.persons.get(actor, id, rc);
      return render(req, res, { person, form: parsed.form }, 400);
    }
    // Offered with the référent: their open follow-ups held by the former one move too, in the
    // update's transaction.
    let moved = 0;
    try {
      if (values.moveFollowUps === '1') {
        const done = await services.persons.updateMovingFollowUps(actor, id, parsed.data, rc);
        moved = done.movedFollowUpIds.length;
      } else {
        await services.persons.update(actor, id, parsed.data, rc);
      }
    } catch (err) {
      if (hasCode(err, 'anonymised')) {
        return redirect(req, res, `/personnes/${id}`, {
          type: 'error',
          message: ANONYMISED_TEXT,
        });
      }
      if (hasCode(err, 'stale_version')) {
        const current = (err.details as { current: Person }).current;
        // What the user typed stays; the version moves to the saved one, so saving again
        // applies their values on purpose.
        const form = { values: { ...values, version: String(current.version) }, errors: {} };
        return render(
          req,
          res,
          { person: current, form, conflict: conflictWith(current, values) },
          409,
        );
      }
      const form = formFromServiceError(err, values, EDIT_MESSAGES);
      if (!form) throw err;
      const person = await services.persons.get(actor, id, rc);
      return render(req, res, { person, form }, 400);
    }
    await redirect(req, res, `/personnes/${id}`, {
      type: 'success',
      message:
        moved > 0
          ? `La fiche est mise à jour ; ${moved > 1 ? `${moved} suivis ouverts sont confiés` : '1 suivi ouvert est confié'} au nouveau ou à la nouvelle référent·e.`
          : 'La fiche est mise à jour.',
    });
  });

  /** Closing and reopening change one thing; a stale version shows the file as it is now. */
  async function changeClosure(
    req: Request,
    res: Response,
    closedReason: string | null,
    values: Record<string, string>,
  ) {
    const id = idOf(req);
    const actor = actorOf(req);
    const rc = requestContext(req);
    const version = versionField(values).version ?? NaN;
    const preErrors: Record<string, string> = {};
    if (closedReason === '') preErrors.closedReason = CLOSE_MESSAGES.closedReason;
    const parsed = parseWith(
      updatePersonBody,
      { closedReason: closedReason === '' ? undefined : closedReason, version },
      values,
      CLOSE_MESSAGES,
      preErrors,
    );
    if (!parsed.ok) {
      const person = await services.persons.get(actor, id, rc);
      return render(
        req,
        res,
        { person, form: emptyForm(personFormValues(person)), closeForm: parsed.form },
        400,
      );
    }
    try {
      await services.persons.update(actor, id, parsed.data, rc);
    } catch (err) {
      if (hasCode(err, 'stale_version')) {
        // The file as it is now, the reason chosen kept, the forms at the saved version.
        const current = (err.details as { current: Person }).current;
        return render(
          req,
          res,
          {
            person: current,
            form: emptyForm(personFormValues(current)),
            closeForm: staleForm(closedReason ? { closedReason } : {}),
          },
          409,
        );
      }
      if (!hasCode(err, 'anonymised')) throw err;
      return redirect(req, res, `/personnes/${id}`, {
        type: 'error',
        message: ANONYMISED_TEXT,
      });
    }
    await redirect(req, res, `/personnes/${id}`, {
      type: 'success',
      message: closedReason
        ? `La fiche est clôturée (motif : ${CLOSED_REASON_LABELS[closedReason]}).`
        : 'La fiche est rouverte.',
    });
  }

  r.post('/personnes/:id/cloturer', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['closedReason', 'version']);
    await changeClosure(req, res, values.closedReason ?? '', values);
  });

  r.post('/personnes/:id/rouvrir', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    await changeClosure(req, res, null, formValues(req.body, ['version']));
  });

  return r;
}
