import { AppError } from '../../lib/errors';
import { formRefusal, type Messages } from '../forms';
import type { FormState } from '../views/components';

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
  right_archived: {
    field: 'rightCode',
    message: 'Ce droit est archivé : il n’est plus proposé pour une nouvelle orientation.',
  },
  invalid_transition: {
    message: 'Cette demande a changé entre-temps : ce passage n’est plus possible.',
  },
  conflict: { message: 'Cette demande a changé entre-temps : ce passage n’est plus possible.' },
  forbidden: { message: 'Vous ne pouvez pas faire cette action sur cette demande.' },
};

/**
 * The consent form's words for the same codes: an expiry already passed is refused as the
 * consent it would record is already expired, which the form says by its expiry field.
 */
export const CONSENT_REFUSALS: Record<string, { field?: string; message: string }> = {
  ...REFUSALS,
  consent_expired: {
    field: 'expiresAt',
    message:
      'Cette date de fin est déjà passée : l’accord serait déjà expiré. Indiquez une date à venir, ou laissez le champ vide.',
  },
};

/**
 * A refused write as the form shows it back: field errors for invalid input (400), an anonymised
 * file (409) as every form says it, the French refusal for a forbidden, conflicting or
 * rule-breaking one, with its own status. Anything else
 * (404, 5xx) is not the form's business and goes to the error page.
 */
export function refusedForm(
  err: unknown,
  values: Record<string, string>,
  messages: Messages,
  refusals: Record<string, { field?: string; message: string }> = REFUSALS,
): { form: FormState; status: number } | null {
  const refused = formRefusal(err, values, messages);
  if (refused) return refused;
  if (!(err instanceof AppError) || ![403, 409, 422].includes(err.status)) return null;
  const r = refusals[err.code] ?? { message: 'L’action n’a pas pu être enregistrée.' };
  return { form: { values, errors: { [r.field ?? '_form']: r.message } }, status: err.status };
}
