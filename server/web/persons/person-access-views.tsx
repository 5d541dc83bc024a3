import type { AuditEvent } from '../../features/audit/audit-trail';
import type { Page } from '../../lib/validate';
import { formatDateTime } from '../format';
import type { PageContext } from '../views/layout';
import {
  Csrf,
  OnceKey,
  ErrorSummary,
  Pagination,
  SelectField,
  TextField,
  type FormState,
} from '../views/components';
import { Layout } from '../views/layout';
import { auditActionLabel, auditActorLabel } from './audit-labels';

const BackToFile = ({ id }: { id: string }) => (
  <p class="fr-mb-2w">
    <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href={`/personnes/${id}`}>
      Retour à la fiche
    </a>
  </p>
);

/** Who read this file: the person's audit events, newest first, for managers. */
export function JournalPage({
  ctx,
  person,
  events,
}: {
  ctx: PageContext;
  person: { id: string; label: string };
  events: Page<AuditEvent>;
}) {
  return (
    <Layout title={`Journal des accès — ${person.label}`} ctx={ctx} nav="persons">
      <BackToFile id={person.id} />
      <h1>Journal des accès à la fiche de {person.label}</h1>
      <p>
        Chaque consultation et chaque modification de la fiche, de ses orientations et des fiches
        fusionnées avec elle, les plus récentes en premier. Les traces sont conservées 12 mois.
      </p>
      <p>
        <a
          class="fr-btn fr-btn--sm fr-btn--secondary fr-icon-download-line fr-btn--icon-left"
          href={`/personnes/${person.id}/export.pdf`}
        >
          Exporter toutes les données (droit d’accès, PDF)
        </a>
      </p>
      {events.total === 0 ? (
        <p>Aucune trace.</p>
      ) : (
        <div class="fr-table">
          <table>
            <caption>
              {events.total} trace{events.total > 1 ? 's' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Action</th>
                <th scope="col">Par</th>
                <th scope="col">Adresse IP</th>
              </tr>
            </thead>
            <tbody>
              {events.items.map((e) => (
                <tr>
                  <td>{formatDateTime(e.at)}</td>
                  <td>{auditActionLabel(e.action)}</td>
                  <td>{auditActorLabel(e.actor)}</td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={events.page}
        total={events.total}
        pageSize={events.pageSize}
        href={(n) => `/personnes/${person.id}/journal?page=${n}`}
        label="Pages du journal"
      />
    </Layout>
  );
}

export const LETTER_LABELS: Record<string, string> = {
  kind: 'Le courrier propose',
  at: 'Date et heure du rendez-vous',
  place: 'Lieu du rendez-vous',
  phone: 'Numéro à appeler',
  hours: 'Quand appeler',
};

/** A letter to the person's postal address: the form, and its refusals. */
export function LetterPage({
  ctx,
  person,
  form,
}: {
  ctx: PageContext;
  /** `hasName`: a first or last name to address the letter to (never the alias). */
  person: { id: string; label: string; address: string | null; hasName: boolean };
  form: FormState;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout
      title={`Écrire un courrier — ${person.label}`}
      hasErrors={hasErrors}
      ctx={ctx}
      nav="persons"
    >
      <BackToFile id={person.id} />
      <h1>Écrire un courrier à {person.label}</h1>
      {person.address ? (
        <p>
          Le courrier, au format PDF à imprimer, porte l’en-tête de la structure et l’adresse de la
          personne : <strong>{person.address}</strong>. Il est noté comme un contact par courrier.
        </p>
      ) : (
        <div class="fr-alert fr-alert--warning fr-mb-3w">
          <p>
            Cette personne n’a pas d’adresse postale : ajoutez-la à sa fiche avant de lui écrire.
          </p>
        </div>
      )}
      {person.hasName ? null : (
        <div class="fr-alert fr-alert--warning fr-mb-3w">
          <p>
            Cette personne n’a ni prénom ni nom : ajoutez-en un à sa fiche avant de lui écrire. Son
            surnom décrit la personne pour l’équipe et ne figure pas sur un courrier.
          </p>
        </div>
      )}
      <ErrorSummary form={form} labels={LETTER_LABELS} />
      <form method="post" action={`/personnes/${person.id}/courrier`} novalidate>
        <Csrf token={ctx.csrfToken} />
        <OnceKey />
        <SelectField
          form={form}
          name="kind"
          label={LETTER_LABELS.kind}
          options={{ meeting: 'Un rendez-vous', call: 'Un numéro à appeler' }}
          required
        />
        <fieldset class="fr-fieldset" aria-labelledby="rdv-legend">
          <legend class="fr-fieldset__legend" id="rdv-legend">
            Pour un rendez-vous
          </legend>
          <div class="fr-fieldset__element">
            <TextField form={form} name="at" label={LETTER_LABELS.at} type="datetime-local" />
          </div>
          <div class="fr-fieldset__element">
            <TextField form={form} name="place" label={LETTER_LABELS.place} />
          </div>
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="appel-legend">
          <legend class="fr-fieldset__legend" id="appel-legend">
            Numéro et horaires
          </legend>
          <div class="fr-fieldset__element">
            <TextField
              form={form}
              name="phone"
              label={LETTER_LABELS.phone}
              hint="Sans numéro, celui de l’en-tête de la structure"
              type="tel"
            />
          </div>
          <div class="fr-fieldset__element">
            <TextField
              form={form}
              name="hours"
              label={LETTER_LABELS.hours}
              hint="Par exemple : du lundi au vendredi, de 9 h à 12 h"
            />
          </div>
        </fieldset>
        <button type="submit" class="fr-btn fr-icon-printer-line fr-btn--icon-left">
          Préparer le courrier (PDF)
        </button>
      </form>
    </Layout>
  );
}
