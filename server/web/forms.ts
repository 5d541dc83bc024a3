import { z } from 'zod';
import { hasCode, ValidationError, type FieldIssue } from '../lib/errors';
import type { FormState } from './views/components';
import { parseParisLocal } from './format';
import { MIN_BIRTH_YEAR } from '../lib/date-rules';
import { DISTRICT_ARCHIVED } from '../features/districts/district-schemas';

/**
 * Turns an HTML form into the API's input shape and validates it with the API's own zod
 * schema, so both edges apply one set of rules; only the messages are the page's (French).
 */
export type Messages = Record<string, string>;

const GENERIC = 'Cette valeur n’est pas valide';

/** A count as French writes it: 10 000, with a space that never breaks the line. */
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');

/**
 * What a length issue says, the length in it: "Saisissez 120 caractères au plus (134 saisis)",
 * "Saisissez au moins 12 caractères". Null for any other issue, and for a minimum of one, which
 * is "required" and keeps the field's own words.
 */
export function lengthMessage(issue: z.core.$ZodIssue, typed?: string): string | null {
  if (issue.code !== 'too_big' && issue.code !== 'too_small') return null;
  if (issue.origin !== 'string') return null;
  const limit = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  // Some fields are trimmed before they are measured: the count shown is the one that failed.
  const raw = typed ?? '';
  const trimmed = raw.trim().length;
  if (issue.code === 'too_big') {
    const n = trimmed > limit ? trimmed : raw.length;
    const saisis = n > limit ? ` (${count(n)} saisis)` : '';
    return `Saisissez ${count(limit)} caractères au plus${saisis}`;
  }
  if (limit <= 1) return null;
  const n = trimmed < limit ? trimmed : raw.length;
  const saisis = n > 0 && n < limit ? ` (${count(n)} saisi${n > 1 ? 's' : ''})` : '';
  return `Saisissez au moins ${count(limit)} caractères${saisis}`;
}

/**
 * The one place a zod issue becomes French: a length issue says the length; a schema's own rule
 * that names itself (`params.rule`) takes the message keyed `field:rule` when there is one, as a
 * service's refusal does (`formFromServiceError`); anything else takes the field's own message.
 */
export function issueMessage(
  issue: z.core.$ZodIssue,
  field: string,
  values: Record<string, string>,
  messages: Messages,
): string {
  const rule = issue.code === 'custom' ? issue.params?.rule : undefined;
  const ruled = typeof rule === 'string' ? messages[`${field}:${rule}`] : undefined;
  return lengthMessage(issue, values[field]) ?? ruled ?? messages[field] ?? GENERIC;
}

/** Form bodies are flat strings; anything else (arrays from repeated names) is dropped. */
export function formValues(body: unknown, fields: readonly string[]): Record<string, string> {
  const src = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = src[f];
    // A textarea sends its line breaks as CRLF (the HTML form encoding): kept as the API's LF,
    // so a value sent back untouched is the value saved.
    if (typeof v === 'string') out[f] = v.replace(/\r\n/g, '\n');
  }
  return out;
}

/** Boxes ticked under one name arrive as a string or an array of strings. */
export function formList(body: unknown, name: string): string[] {
  const raw = (body as Record<string, unknown> | undefined)?.[name];
  return ([] as unknown[]).concat(raw ?? []).filter((v): v is string => typeof v === 'string');
}

/**
 * The version a form showed (a hidden field), as the API's input: checked by the API's schema, so
 * a value that is not one is the form's 400; a page of before the field sends none.
 */
export function versionField(body: unknown): { version?: number } {
  const { version } = formValues(body, ['version']);
  if (version === undefined) return {};
  return { version: /^\d{1,10}$/.test(version.trim()) ? Number(version) : NaN };
}

/**
 * The fields of a form sent back with a 409 whose saved value differs from the one typed, each
 * with its saved value as the user reads it (`show`, for empty values too; empty is shown as
 * "non renseigné"). Line breaks
 * and surrounding spaces are no change, `lists` (ticked boxes, comma-separated) compare as
 * sets whatever their order, and `numbers` typed as whole numbers compare by value ("05" is the
 * saved 5). Only the fields named so: a phone or a postcode keeps its leading zero.
 */
export function changedFields(
  typed: Record<string, string>,
  saved: Record<string, string>,
  opts: { show?: (name: string, raw: string) => string; lists?: string[]; numbers?: string[] } = {},
): Record<string, string> {
  const norm = (name: string, v: string | undefined) => {
    const text = (v ?? '').replace(/\r\n/g, '\n').trim();
    if (opts.lists?.includes(name)) return text.split(',').filter(Boolean).sort().join(',');
    if (opts.numbers?.includes(name) && /^\d{1,15}$/.test(text)) return String(Number(text));
    return text;
  };
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(saved))
    if (norm(name, typed[name]) !== norm(name, raw))
      out[name] = opts.show ? opts.show(name, raw) : raw;
  return out;
}

/** The names of the ids a field holds (ticked boxes, comma-separated), among those known. */
export function namesOf(ids: string, known: { id: string; name: string }[]): string {
  const wanted = ids.split(',');
  return known
    .filter((k) => wanted.includes(k.id))
    .map((k) => k.name)
    .join(', ');
}

/** Empty inputs mean "not given", as the API expects absent keys rather than empty strings. */
export function compact(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''));
}

/** Converts a datetime-local field to ISO, or records an error for it. */
export function dateField(
  values: Record<string, string>,
  name: string,
  errors: Record<string, string>,
  message: string,
  required: boolean,
): string | undefined {
  const raw = values[name]?.trim() ?? '';
  if (!raw) {
    if (required) errors[name] = message;
    return undefined;
  }
  const d = parseParisLocal(raw);
  if (!d) {
    errors[name] = message;
    return undefined;
  }
  return d.toISOString();
}

type Parsed<T> = { ok: true; data: T } | { ok: false; form: FormState };

export function parseWith<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  values: Record<string, string>,
  messages: Messages,
  preErrors: Record<string, string> = {},
): Parsed<z.infer<S>> {
  const res = schema.safeParse(input);
  const errors = { ...preErrors };
  if (!res.success) {
    // A cross-field rule may name a field the form does not have (the API's "give at least one
    // of…" on `status`): it is a consequence of a field error when there is one, and otherwise
    // the form's own error, never a second, field-less message.
    const orphans: string[] = [];
    for (const issue of res.error.issues) {
      const field = String(issue.path[0] ?? '');
      if (field in values || field in messages)
        errors[field] ??= issueMessage(issue, field, values, messages);
      else orphans.push(field);
    }
    if (orphans.length && Object.keys(errors).length === 0) errors._form = GENERIC;
  }
  if (Object.keys(errors).length > 0 || !res.success)
    return { ok: false, form: { values, errors } };
  return { ok: true, data: res.data };
}

/**
 * A service's ValidationError (an unknown referent, a date in the future…) shown next to the
 * field it names. An issue with a code takes the message keyed `field:code` when there is one
 * (`occurredAt:date_in_future`), else the field's own.
 */
export function formFromServiceError(
  err: unknown,
  values: Record<string, string>,
  messages: Messages,
): FormState | null {
  if (!(err instanceof ValidationError)) return null;
  const details = (err.details as FieldIssue[] | undefined) ?? [];
  const errors: Record<string, string> = {};
  for (const d of details) {
    const field = d.field.replace(/^body\./, '');
    errors[field] ??= (d.code && messages[`${field}:${d.code}`]) || messages[field] || GENERIC;
  }
  if (Object.keys(errors).length === 0) errors._form = GENERIC;
  return { values, errors };
}

/**
 * The archive or restore button of an admin list (the rights catalogue, the districts): the
 * version read with the row, and which way it goes.
 */
export const archiveForm = z
  .object({
    _csrf: z.string(),
    version: z.coerce.number().int().min(1),
    archived: z.enum(['true', 'false']),
  })
  .strict();

/** What a page says of a write refused because its file was anonymised (409 `anonymised`). */
export const ANONYMISED_TEXT =
  'Cette fiche a été anonymisée : elle ne peut plus être modifiée, rien n’a été enregistré.';

/**
 * What a page says of a creation form sent again with other values (422
 * `idempotency_key_reused`: the browser's back button, a field changed, the form sent again).
 * The form comes back with a new key, so sending it again makes the new one.
 */
export const RESENT_TEXT =
  'Ce formulaire avait déjà été envoyé, avec d’autres valeurs : rien de plus n’a été enregistré. Vérifiez ce qui est saisi, puis envoyez-le à nouveau.';

/** The form sent again with other values (422 `idempotency_key_reused`), else null. */
export function resentForm(err: unknown, values: Record<string, string>): FormState | null {
  return hasCode(err, 'idempotency_key_reused') ? { values, errors: { _form: RESENT_TEXT } } : null;
}

/**
 * A service's refusal shown back in its form, what was typed kept, with the status to answer:
 * invalid input next to the field it names (400), an anonymised file above the form (409), a
 * creation form's key already used for other values above the form (422). Null for anything
 * else, which is not the form's to show.
 */
export function formRefusal(
  err: unknown,
  values: Record<string, string>,
  messages: Messages,
): { form: FormState; status: number } | null {
  if (hasCode(err, 'anonymised'))
    return { form: { values, errors: { _form: ANONYMISED_TEXT } }, status: 409 };
  const resent = resentForm(err, values);
  if (resent) return { form: resent, status: 422 };
  const form = formFromServiceError(err, values, messages);
  return form ? { form, status: 400 } : null;
}

/** The words of the past-date confirmation box, quoted by the messages that point to it. */
export const ALLOW_PAST_LABEL = 'Je confirme cette date passée (action en retard)';

const PAST_DUE = (what: string) =>
  `${what} est passée : corrigez-la, ou cochez « ${ALLOW_PAST_LABEL} » pour l’enregistrer quand même`;

/*
 * Each form's own words, by field (and by field and rule code for a service's refusal). A
 * length is never written here: lengthMessage says it, for every form.
 */

export const CONTACT_MESSAGES: Messages = {
  occurredAt: 'Indiquez la date et l’heure du contact, par exemple 21/11/2026 10:00',
  'occurredAt:date_in_future':
    'La date du contact est dans le futur : indiquez quand il a eu lieu, au plus tard maintenant',
  'nextFollowUpAt:date_in_past': PAST_DUE('La date du prochain suivi'),
  channel: 'Choisissez le canal du contact',
  outcome: 'Choisissez le résultat du contact',
  nextFollowUpAt: 'Indiquez une date et une heure valides pour le prochain suivi',
  nextFollowUpTitle: 'Indiquez l’intitulé du prochain suivi',
};

export const PLAN_MESSAGES: Messages = {
  title: 'Indiquez l’action à faire',
  dueAt: 'Indiquez la date et l’heure du suivi',
  'dueAt:date_in_past': PAST_DUE('La date du suivi'),
  assigneeId: 'Cette personne ne fait pas partie de votre structure',
};

export const COMPLETE_MESSAGES: Messages = {
  note: 'Écrivez une note courte, ou laissez le champ vide',
};

export const RESCHEDULE_MESSAGES: Messages = {
  dueAt: 'Indiquez la nouvelle date et l’heure du suivi',
  'dueAt:date_in_past': PAST_DUE('La nouvelle date du suivi'),
};

export const INTAKE_MESSAGES: Messages = {
  alias: 'Indiquez un surnom, une courte description ou un nom',
  source: 'Choisissez comment la personne a été repérée',
  firstName: 'Indiquez le prénom, ou laissez le champ vide',
  lastName: 'Indiquez le nom, ou laissez le champ vide',
  place: 'Indiquez le lieu, ou laissez le champ vide',
  birthYear: 'Indiquez une année sur 4 chiffres, par exemple 1975',
  'birthYear:birth_year_out_of_range': `L’année de naissance doit être comprise entre ${MIN_BIRTH_YEAR} et l’année en cours`,
  phone: 'Indiquez un numéro de téléphone, par exemple 06 12 34 56 78',
  referentId: 'Ce référent ne fait pas partie de votre structure',
  districtId: 'Ce quartier ne fait pas partie de votre structure',
  [`districtId:${DISTRICT_ARCHIVED}`]:
    'Ce quartier est archivé : il n’est plus proposé. Choisissez-en un autre dans la liste',
};

export const LOGIN_MESSAGES: Messages = {
  email: 'Indiquez votre adresse électronique',
  password: 'Indiquez votre mot de passe',
};

export const SEARCH_MESSAGES: Messages = {
  // Its length is said where every length is (lengthMessage).
  q: 'La recherche contient un caractère invisible : retapez-la',
  statut: 'Choisissez un statut dans la liste',
  quartier: 'Choisissez un quartier dans la liste',
  mes: 'Cochez ou décochez la case',
  droit: 'Choisissez un droit dans la liste',
  statutDroit: 'Choisissez un statut de droit dans la liste',
  raison: 'Choisissez une raison dans la liste',
  address:
    'Cette adresse de recherche n’est plus valable : saisissez votre recherche dans ce champ',
};

export const PASSWORD_MESSAGES: Messages = {
  'password:password_length': 'Le mot de passe doit compter de 12 à 128 caractères',
  'password:password_weak':
    'Ce mot de passe est trop courant ou trop facile à deviner : choisissez-en un autre',
  password: 'Saisissez un mot de passe',
};
