import type { Partner, PartnerService } from '../../features/partners/partner-repository';
import { AUDIENCES } from '../../features/partners/partner-schemas';
import { formatDate } from '../format';
import {
  CheckboxGroup,
  Csrf,
  OnceKey,
  ErrorSummary,
  Section,
  StaleFormAlert,
  TextArea,
  TextField,
  type FormState,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { AUDIENCE_LABELS, audienceLabel, themeLabel, themeOptions } from './partner-labels';

type Kind = 'text' | 'email' | 'tel' | 'number' | 'url';
/** name, label, input type, required, hint */
type FieldSpec = [string, string, Kind, boolean, string?];

/** The partner's own description (creation and edit pages). */
const PARTNER_FIELDS: FieldSpec[] = [
  ['name', 'Nom', 'text', true],
  [
    'email',
    'Courriel',
    'email',
    true,
    'Les demandes d’orientation et les relances y sont envoyées',
  ],
  ['phone', 'Téléphone', 'tel', false],
  ['website', 'Site internet', 'url', false, 'Par exemple : https://www.partenaire.fr'],
  ['area', 'Zone d’intervention', 'text', false],
  ['howToReach', 'Comment le joindre', 'text', false],
];

const DELAY_HINT = 'De 1 à 60 jours ouvrés ; vide : le délai de la structure';
const THEMES_HINT = 'Au moins une, dans le vocabulaire data·inclusion';

/** A service's response delay as the directory says it, after "réponse". */
const delayText = (s: PartnerService) =>
  s.responseDelayDays === null
    ? ' : délai de la structure'
    : ` sous ${s.responseDelayDays} jours ouvrés`;

export const PARTNER_LABELS: Record<string, string> = {
  ...Object.fromEntries(PARTNER_FIELDS.map(([name, label]) => [name, label])),
  description: 'Présentation',
  serviceName: 'Premier service',
  themes: 'Thématiques',
  audience: 'Publics',
  responseDelayDays: 'Délai de réponse (jours ouvrés)',
};

export const SERVICE_LABELS: Record<string, string> = {
  name: 'Nom du service',
  description: 'Présentation',
  themes: 'Thématiques',
  audience: 'Publics',
  area: 'Zone d’intervention',
  howToReach: 'Comment le joindre',
  responseDelayDays: 'Délai de réponse (jours ouvrés)',
};

const AUDIENCE_OPTIONS = Object.fromEntries(AUDIENCES.map((a) => [a, AUDIENCE_LABELS[a]]));

function PartnerFields({ form, idPrefix }: { form: FormState; idPrefix: string }) {
  return (
    <>
      {PARTNER_FIELDS.map(([name, label, type, required, hint]) => (
        <TextField
          form={form}
          idPrefix={idPrefix}
          name={name}
          label={label}
          type={type}
          required={required}
          hint={hint}
        />
      ))}
    </>
  );
}

const chosen = (form: FormState) => (form.values.themes ?? '').split(',').filter(Boolean);

/** A service's thematiques and publics, boxes of the data·inclusion vocabulary. */
function ThemesAndAudience({ form, idPrefix }: { form: FormState; idPrefix: string }) {
  return (
    <>
      <CheckboxGroup
        form={form}
        idPrefix={idPrefix}
        name="themes"
        label={SERVICE_LABELS.themes}
        hint={THEMES_HINT}
        options={themeOptions(chosen(form))}
        inline
        required
      />
      <CheckboxGroup
        form={form}
        idPrefix={idPrefix}
        name="audience"
        label={SERVICE_LABELS.audience}
        hint="Facultatif"
        options={AUDIENCE_OPTIONS}
        inline
      />
    </>
  );
}

/** What a service offers, as the directory shows it. */
function ServiceSummary({ s }: { s: PartnerService }) {
  return (
    <>
      <p class="fr-text--sm fr-mb-1v">
        {s.themes.map(themeLabel).join(', ')}
        {s.audience.length ? ` · pour : ${s.audience.map(audienceLabel).join(', ')}` : ''}
      </p>
      <p class="fr-text--sm fr-mb-1v">
        Réponse{delayText(s)}
        {s.area ? ` · ${s.area}` : ''}
        {s.howToReach ? ` · ${s.howToReach}` : ''} · revu le {formatDate(s.lastReviewedAt)}
        {s.stale ? (
          <span class="fr-badge fr-badge--sm fr-badge--warning fr-ml-1w">À revoir</span>
        ) : null}
      </p>
    </>
  );
}

/** A partner as the directory lists it: name, email, review date, services. */
function PartnerSummary({ p }: { p: Partner }) {
  return (
    <>
      <p class="fr-mb-1v">
        <strong>{p.name}</strong> · {p.email}
        {p.pendingEmail ? ` (nouvelle adresse ${p.pendingEmail} en attente de confirmation)` : ''}
        {p.stale ? (
          <span class="fr-badge fr-badge--sm fr-badge--warning fr-ml-1w">À revoir</span>
        ) : null}
      </p>
      <p class="fr-text--sm fr-mb-1v">
        Revu le {formatDate(p.lastReviewedAt)}
        {p.area ? ` · ${p.area}` : ''}
      </p>
      <ul>
        {p.services.map((s) => (
          <li class="fr-text--sm">
            {s.name} — {s.themes.map(themeLabel).join(', ')} — réponse{delayText(s)}
          </li>
        ))}
      </ul>
    </>
  );
}

/**
 * The directory for an admin: the partners of their structure, to edit and review, then the
 * partners other structures maintain, which their teams may also refer to but only the owning
 * structure may change (read only, no link to an edit page that would answer 404).
 */
export function AdminPartnersPage({
  ctx,
  own,
  others,
  form,
}: {
  ctx: PageContext;
  own: Partner[];
  others: Partner[];
  form: FormState;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Partenaires" hasErrors={hasErrors} ctx={ctx} nav="partners">
      <h1>Annuaire des partenaires</h1>
      <Section title={`Partenaires de votre structure (${own.length})`} id="vos-partenaires">
        <p class="fr-text--sm">
          Ajoutés par votre structure : seuls ses administrateurs peuvent modifier leur description,
          leur courriel et leurs services.
        </p>
        {own.length === 0 ? <p>Aucun partenaire pour l’instant.</p> : null}
        <ul class="av-list">
          {own.map((p) => (
            <li class="av-item av-item--stack">
              <PartnerSummary p={p} />
              <div class="av-actions">
                <a
                  class="fr-btn fr-btn--sm fr-btn--secondary fr-icon-edit-line fr-btn--icon-left"
                  href={`/admin/partenaires/${p.id}`}
                >
                  Modifier<span class="fr-sr-only"> {p.name} et ses services</span>
                </a>
                <form
                  method="post"
                  action={`/admin/partenaires/${p.id}/revue`}
                  class="av-inline-form"
                >
                  <Csrf token={ctx.csrfToken} />
                  <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit">
                    Marquer comme revu aujourd’hui<span class="fr-sr-only"> : {p.name}</span>
                  </button>
                </form>
              </div>
            </li>
          ))}
        </ul>
      </Section>
      {others.length > 0 ? (
        <Section
          title={`Partenaires tenus par d’autres structures (${others.length})`}
          id="autres-partenaires"
        >
          <p class="fr-text--sm">
            Vos équipes peuvent aussi les orienter vers eux. Seule la structure qui les a ajoutés
            peut les modifier : signalez-lui une information à corriger.
          </p>
          <ul class="av-list">
            {others.map((p) => (
              <li class="av-item av-item--stack">
                <PartnerSummary p={p} />
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      <Section title="Ajouter un partenaire" id="ajouter">
        <p class="fr-text--sm">
          Avec son premier service ; vous pourrez en ajouter d’autres depuis sa fiche. Les champs
          marqués d’un astérisque (*) sont obligatoires.
        </p>
        <ErrorSummary form={form} labels={PARTNER_LABELS} idPrefix="partner-" />
        <form method="post" action="/admin/partenaires" novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <PartnerFields form={form} idPrefix="partner-" />
          <TextField
            form={form}
            idPrefix="partner-"
            name="serviceName"
            label={PARTNER_LABELS.serviceName}
            hint="Le nom du service, par exemple : Colis alimentaires"
            required
          />
          <ThemesAndAudience form={form} idPrefix="partner-" />
          <TextField
            form={form}
            idPrefix="partner-"
            name="responseDelayDays"
            label={PARTNER_LABELS.responseDelayDays}
            hint={DELAY_HINT}
            type="number"
          />
          <button class="fr-btn" type="submit">
            Ajouter
          </button>
        </form>
      </Section>
    </Layout>
  );
}

function BackToDirectory() {
  return (
    <p class="fr-mb-2w">
      <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/admin/partenaires">
        Tous les partenaires
      </a>
    </p>
  );
}

/** One partner: its description to edit, and its services, each with its own page. */
export function PartnerEditPage({
  ctx,
  partner,
  form,
  changed,
}: {
  ctx: PageContext;
  /** The partner as saved now (the form's version is its). */
  partner: Partner;
  form: FormState;
  /** Sent back with a 409: the fields saved meanwhile with another value, and that value. */
  changed?: Record<string, string>;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title={`Partenaire ${partner.name}`} hasErrors={hasErrors} ctx={ctx} nav="partners">
      <BackToDirectory />
      <h1>{partner.name}</h1>
      <p class="fr-text--sm">
        Revu le {formatDate(partner.lastReviewedAt)}. Enregistrer sa description vaut revue.
      </p>
      {partner.pendingEmail ? (
        <div class="fr-alert fr-alert--info fr-alert--sm fr-mb-3w">
          <p>
            Nouvelle adresse {partner.pendingEmail} en attente de confirmation : un lien lui a été
            envoyé (valable 48 heures). Jusqu’à sa confirmation, les demandes d’orientation partent
            toujours à {partner.email}.
          </p>
          {/* A mistyped address is withdrawn here: its link then stops working. */}
          <form
            method="post"
            action={`/admin/partenaires/${partner.id}/adresse-en-attente/retrait`}
            class="fr-mt-1w"
          >
            <Csrf token={ctx.csrfToken} />
            <button class="fr-btn fr-btn--sm fr-btn--secondary" type="submit">
              Retirer cette adresse
            </button>
          </form>
        </div>
      ) : null}
      <p>
        <a class="fr-link" href={`/admin/partenaires/${partner.id}/comptes`}>
          Comptes des personnes de ce partenaire
        </a>
      </p>
      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-6">
          <Section title="Description" id="description">
            <p class="fr-text--sm">Les champs marqués d’un astérisque (*) sont obligatoires.</p>
            {changed ? (
              <StaleFormAlert
                title="Ce partenaire a été modifié pendant que vous le changiez"
                changed={changed}
                labels={PARTNER_LABELS}
                idPrefix="partner-"
              />
            ) : null}
            <ErrorSummary form={form} labels={PARTNER_LABELS} idPrefix="partner-" />
            <form method="post" action={`/admin/partenaires/${partner.id}`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <input
                type="hidden"
                name="version"
                value={form.values.version ?? String(partner.version)}
              />
              <PartnerFields form={form} idPrefix="partner-" />
              <TextArea
                form={form}
                idPrefix="partner-"
                name="description"
                label={PARTNER_LABELS.description}
                hint="Facultatif"
              />
              <button class="fr-btn" type="submit">
                Enregistrer le partenaire
              </button>
            </form>
          </Section>
        </div>
        <div class="fr-col-12 fr-col-lg-6">
          <Section title={`Services (${partner.services.length})`} id="services">
            {partner.services.length === 0 ? <p>Aucun service pour l’instant.</p> : null}
            <ul class="av-list">
              {partner.services.map((s) => (
                <li class="av-item av-item--stack">
                  <p class="fr-text--bold fr-mb-1v">{s.name}</p>
                  <ServiceSummary s={s} />
                  <a
                    class="fr-link fr-icon-edit-line fr-link--icon-left"
                    href={`/admin/partenaires/${partner.id}/services/${s.id}`}
                  >
                    Modifier le service<span class="fr-sr-only"> « {s.name} »</span>
                  </a>
                </li>
              ))}
            </ul>
            <a
              class="fr-btn fr-btn--secondary fr-icon-add-line fr-btn--icon-left"
              href={`/admin/partenaires/${partner.id}/services/nouveau`}
            >
              Ajouter un service
            </a>
          </Section>
        </div>
      </div>
    </Layout>
  );
}

/** Adding a service to a partner, or editing one (`service` given). */
export function ServicePage({
  ctx,
  partner,
  service,
  form,
  changed,
}: {
  ctx: PageContext;
  partner: Partner;
  /** The service as saved now (the form's version is its), or null when adding one. */
  service: PartnerService | null;
  form: FormState;
  /** Sent back with a 409: the fields saved meanwhile with another value, and that value. */
  changed?: Record<string, string>;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const title = service
    ? `Modifier le service « ${service.name} »`
    : `Ajouter un service à ${partner.name}`;
  const action = `/admin/partenaires/${partner.id}/services${service ? `/${service.id}` : ''}`;
  return (
    <Layout title={`${title}`} hasErrors={hasErrors} ctx={ctx} nav="partners">
      <p class="fr-mb-2w">
        <a
          class="fr-link fr-icon-arrow-left-line fr-link--icon-left"
          href={`/admin/partenaires/${partner.id}`}
        >
          Retour à {partner.name}
        </a>
      </p>
      <div class="fr-grid-row">
        <div class="fr-col-12 fr-col-lg-8">
          <h1>{title}</h1>
          <p>
            Les champs marqués d’un astérisque (*) sont obligatoires.
            {service ? ' Enregistrer le service vaut revue.' : ''}
          </p>
          {changed ? (
            <StaleFormAlert
              title="Ce service a été modifié pendant que vous le changiez"
              changed={changed}
              labels={SERVICE_LABELS}
              idPrefix="service-"
            />
          ) : null}
          <ErrorSummary form={form} labels={SERVICE_LABELS} idPrefix="service-" />
          <form method="post" action={action} novalidate>
            <Csrf token={ctx.csrfToken} />
            {service ? (
              <input
                type="hidden"
                name="version"
                value={form.values.version ?? String(service.version)}
              />
            ) : null}
            <TextField
              form={form}
              idPrefix="service-"
              name="name"
              label={SERVICE_LABELS.name}
              required
            />
            <ThemesAndAudience form={form} idPrefix="service-" />
            <TextField
              form={form}
              idPrefix="service-"
              name="area"
              label={SERVICE_LABELS.area}
              hint="Facultatif, par exemple : Angers et Trélazé"
            />
            <TextField
              form={form}
              idPrefix="service-"
              name="howToReach"
              label={SERVICE_LABELS.howToReach}
              hint="Facultatif, par exemple : permanence le mardi matin"
            />
            <TextField
              form={form}
              idPrefix="service-"
              name="responseDelayDays"
              label={SERVICE_LABELS.responseDelayDays}
              hint={`${DELAY_HINT}. Le partenaire est relancé à ce délai.`}
              type="number"
            />
            <TextArea
              form={form}
              idPrefix="service-"
              name="description"
              label={SERVICE_LABELS.description}
              hint="Facultatif"
            />
            <ul class="fr-btns-group fr-btns-group--inline-sm">
              <li>
                <button class="fr-btn" type="submit">
                  Enregistrer le service
                </button>
              </li>
              <li>
                <a class="fr-btn fr-btn--secondary" href={`/admin/partenaires/${partner.id}`}>
                  Annuler
                </a>
              </li>
            </ul>
          </form>
        </div>
      </div>
    </Layout>
  );
}
