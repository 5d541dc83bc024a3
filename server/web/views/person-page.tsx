import type { Report } from '../../features/reports/report-repository';
import { ReportTimelineEntry } from '../reports/report-views';
import type { Contact } from '../../features/contacts/contact-repository';
import { CHANNELS, OUTCOMES } from '../../features/contacts/contact-schemas';
import type { FollowUpView as FollowUp } from '../../features/follow-ups/follow-up-service';
import type { Person } from '../../features/persons/person-repository';
import type { TimelineItem } from '../../features/persons/timeline-service';
import type { Page } from '../../lib/validate';
import type { Right, RightChange } from '../../features/rights/right-repository';
import type { PersonRight } from '../../features/rights/right-service';
import { rightUpdateForms, type RightUpdateForm } from '../../features/rights/right-schemas';
import { ReferralTimelineEntry } from '../referrals/referral-views';
import { RightsPanel, RightTimelineEntry, type RightForm } from '../rights/right-views';
import { CLOSED_REASON_LABELS } from '../persons/person-labels';
import {
  CHANNEL_LABELS,
  FOLLOW_UP_ENDED_LABELS,
  FOLLOW_UP_STATUS_LABELS,
  formatDateTime,
  OUTCOME_LABELS,
  personLabel,
  SOURCE_LABELS,
} from '../format';
import {
  attemptForm,
  CompleteButton,
  FollowUpFormHead,
  UnlistedAttempt,
  type FollowUpAttempt,
} from './actions-page';
import { ALLOW_PAST_LABEL } from '../forms';
import {
  Checkbox,
  Csrf,
  OnceKey,
  ErrorSummary,
  Pagination,
  RangeNote,
  Section,
  SelectField,
  TextArea,
  TextField,
  type FormState,
} from './components';
import { Layout, type PageContext } from './layout';
import { StatusBadge } from './persons-page';

export const CONTACT_LABELS: Record<string, string> = {
  occurredAt: 'Date et heure du contact',
  channel: 'Canal',
  outcome: 'Résultat',
  summary: 'Résumé',
  privateNote: 'Note privée',
  nextFollowUpAt: 'Prochain suivi le',
  nextFollowUpTitle: 'Intitulé du prochain suivi',
  allowPast: ALLOW_PAST_LABEL,
};

export const PLAN_LABELS: Record<string, string> = {
  title: 'Action à faire',
  dueAt: 'À faire le',
  allowPast: ALLOW_PAST_LABEL,
};

export const RESCHEDULE_LABELS: Record<string, string> = {
  dueAt: 'Nouvelle date',
  allowPast: ALLOW_PAST_LABEL,
};

/** The address of a page of a person's timeline. */
export const timelinePageHref = (personId: string, page: number) =>
  `/personnes/${personId}?page=${page}#historique`;

export interface PersonForms {
  contact: FormState;
  plan: FormState;
  /** A follow-up's form sent back (done or rescheduled), if any. */
  followUp?: FollowUpAttempt;
  /** The form of a right that failed, if any. */
  right?: RightForm;
  /** The right a link asked to update (the file's `?droit=`): its form opens. */
  askedRight?: string;
}

function Identity({ person }: { person: Person }) {
  const rows: [string, string | null][] = [
    ['Surnom ou description', person.alias],
    ['Lieu de rencontre', person.place],
    ['Prénom', person.firstName],
    ['Nom', person.lastName],
    ['Année de naissance', person.birthYear ? String(person.birthYear) : null],
    ['Téléphone', person.phone],
    ['Courriel', person.email],
    ['Adresse', person.address],
    [
      'Quartier',
      person.districtName ? `${person.districtName}${person.districtQpv ? ' (QPV)' : ''}` : null,
    ],
    ['Repérée par', SOURCE_LABELS[person.source] ?? person.source],
    ['Référent·e', person.referentName],
  ];
  return (
    <dl class="av-dl">
      {rows.map(([label, value]) => (
        <div>
          <dt>{label}</dt>
          <dd class="av-pre">{value ?? <span class="av-muted">Non renseigné</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

function OpenFollowUps({
  ctx,
  person,
  items,
  attempt,
}: {
  ctx: PageContext;
  person: Person;
  items: FollowUp[];
  attempt?: FollowUpAttempt;
}) {
  if (items.length === 0) return <p class="fr-text--sm">Aucun suivi en cours.</p>;
  const returnTo = `/personnes/${person.id}`;
  return (
    <ul class="av-list">
      {items.map((f) => {
        const prefix = `report-${f.id}-`;
        const sent = attemptForm(attempt, f, 'reporter');
        const { form } = sent;
        return (
          <li class="av-item av-item--stack" id={`suivi-${f.id}`}>
            <p class="fr-text--bold fr-mb-1v">{f.title}</p>
            <p class="fr-text--sm fr-mb-2v">
              {f.overdue ? (
                <span class="fr-badge fr-badge--sm fr-badge--error fr-mr-1w">En retard</span>
              ) : null}
              Prévu le {formatDateTime(f.dueAt)}
              {f.assigneeName ? ` · pour ${f.assigneeName}` : ''}
            </p>
            {/* Only what the follow-up service would accept from this user. */}
            {f.canChange ? (
              <div class="av-actions">
                <CompleteButton ctx={ctx} followUp={f} returnTo={returnTo} attempt={attempt} />
                <form method="post" action={`/suivis/${f.id}`} class="av-reschedule" novalidate>
                  <FollowUpFormHead
                    ctx={ctx}
                    followUp={f}
                    action="reporter"
                    returnTo={returnTo}
                    attempt={sent}
                    labels={RESCHEDULE_LABELS}
                    idPrefix={prefix}
                  />
                  <TextField
                    form={form}
                    idPrefix={prefix}
                    name="dueAt"
                    label={`Nouvelle date pour « ${f.title} »`}
                    type="datetime-local"
                    required
                  />
                  {/* Offered once a date came back refused: moving a follow-up to the past is rare. */}
                  {form.errors.dueAt || form.values.allowPast ? (
                    <Checkbox
                      form={form}
                      idPrefix={prefix}
                      name="allowPast"
                      label={ALLOW_PAST_LABEL}
                    />
                  ) : null}
                  <button type="submit" class="fr-btn fr-btn--sm fr-btn--tertiary">
                    Reporter<span class="fr-sr-only"> : {f.title}</span>
                  </button>
                </form>
              </div>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

function TimelineEntry({
  item,
  rightForms,
}: {
  item: TimelineItem;
  rightForms: ReadonlyMap<string, RightUpdateForm>;
}) {
  if (item.type === 'contact') {
    const c = item.data as Contact;
    return (
      <li class="av-item av-item--stack">
        <p class="fr-text--bold fr-mb-1v">
          Contact · {CHANNEL_LABELS[c.channel]} · {OUTCOME_LABELS[c.outcome]}
        </p>
        <p class="fr-text--sm fr-mb-1v">
          {formatDateTime(c.occurredAt)}
          {c.authorName ? ` · par ${c.authorName}` : ''}
        </p>
        {c.summary ? <p class="fr-mb-0 av-pre">{c.summary}</p> : null}
        {/* Present only when the reader wrote it (the contact repository decides). */}
        {c.privateNote ? (
          <div class="fr-mt-1w">
            <p class="fr-text--sm fr-text--bold fr-mb-0">Note privée (visible par vous seul·e)</p>
            <p class="fr-mb-0 av-pre">{c.privateNote}</p>
          </div>
        ) : null}
      </li>
    );
  }
  if (item.type === 'follow_up') {
    const f = item.data as FollowUp;
    return (
      <li class="av-item av-item--stack">
        <p class="fr-text--bold fr-mb-1v">
          Suivi · {f.title} · {FOLLOW_UP_STATUS_LABELS[f.status] ?? f.status}
        </p>
        <p class="fr-text--sm fr-mb-0">
          {f.completedAt
            ? `${FOLLOW_UP_ENDED_LABELS[f.status] ?? 'Terminé le'} ${formatDateTime(f.completedAt)}`
            : `Prévu le ${formatDateTime(f.dueAt)}`}
          {f.assigneeName ? ` · ${f.assigneeName}` : ''}
        </p>
        {f.completionNote ? <p class="fr-mb-0 av-pre">{f.completionNote}</p> : null}
      </li>
    );
  }
  if (item.type === 'referral')
    return <ReferralTimelineEntry item={item} rightForms={rightForms} />;
  if (item.type === 'right') return <RightTimelineEntry change={item.data as RightChange} />;
  if (item.type === 'report') return <ReportTimelineEntry report={item.data as Report} />;
  return (
    <li class="av-item av-item--stack">
      <p class="fr-text--sm fr-mb-0">Événement du {formatDateTime(item.at)}</p>
    </li>
  );
}

export function PersonPage({
  ctx,
  person,
  timeline,
  openFollowUps,
  forms,
  rights,
}: {
  ctx: PageContext;
  person: Person;
  timeline: Page<TimelineItem>;
  /** The structure's catalogue (rights in use) and the person's tracked rights. */
  rights: { catalogue: Right[]; tracked: PersonRight[] };
  /** The first page of open follow-ups; `total` says how many there are in all. */
  openFollowUps: Page<FollowUp>;
  forms: PersonForms;
}) {
  const label = personLabel(person);
  // Where this file updates each right: a referral of the timeline links there.
  const rightForms = rightUpdateForms(rights.catalogue, rights.tracked);
  const hasErrors =
    Object.keys(forms.contact.errors).length +
      Object.keys(forms.plan.errors).length +
      Object.keys(forms.followUp?.form.errors ?? {}).length +
      Object.keys(forms.right?.form.errors ?? {}).length >
    0;
  const channels = Object.fromEntries(CHANNELS.map((c) => [c, CHANNEL_LABELS[c]]));
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, OUTCOME_LABELS[o]]));
  return (
    <Layout title={`${label}`} hasErrors={hasErrors} ctx={ctx} nav="persons">
      <p class="fr-mb-2w">
        <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/personnes">
          Toutes les personnes
        </a>
      </p>
      <div class="av-title-row">
        <h1 class="fr-mb-1w">{label}</h1>
        <p class="fr-mb-0">
          <span class="fr-sr-only">Statut du parcours : </span>
          <StatusBadge status={person.status} />
        </p>
      </div>
      <p class="fr-text--sm">
        Dernière activité le {formatDateTime(person.lastActivityAt)}
        {person.closedAt
          ? ` · fiche clôturée le ${formatDateTime(person.closedAt)}${
              person.closedReason
                ? ` (${CLOSED_REASON_LABELS[person.closedReason] ?? person.closedReason})`
                : ''
            }`
          : ''}
      </p>
      <p>
        <a
          class="fr-btn fr-btn--sm fr-btn--secondary fr-icon-edit-line fr-btn--icon-left"
          href={`/personnes/${person.id}/modifier`}
        >
          Modifier la fiche
        </a>
        {ctx.actor?.role === 'manager' ? (
          <>
            {' '}
            <a
              class="fr-btn fr-btn--sm fr-btn--tertiary fr-icon-git-merge-line fr-btn--icon-left"
              href={`/personnes/${person.id}/fusion`}
            >
              Fusionner avec une autre fiche
            </a>{' '}
            <a
              class="fr-btn fr-btn--sm fr-btn--tertiary fr-icon-eye-line fr-btn--icon-left"
              href={`/personnes/${person.id}/journal`}
            >
              Journal des accès
            </a>{' '}
            <a
              class="fr-btn fr-btn--sm fr-btn--tertiary fr-icon-download-line fr-btn--icon-left"
              href={`/personnes/${person.id}/export.pdf`}
            >
              Exporter les données (droit d’accès, PDF)
            </a>
          </>
        ) : null}{' '}
        <a
          class="fr-btn fr-btn--sm fr-btn--tertiary fr-icon-mail-line fr-btn--icon-left"
          href={`/personnes/${person.id}/courrier`}
        >
          Écrire un courrier
        </a>
      </p>
      <p>
        <a class="fr-link" href={`/personnes/${person.id}/orientations`}>
          Orientations et consentements
        </a>
        {' · '}
        <a class="fr-link" href="#droits">
          Droits et aides
        </a>
      </p>

      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-7">
          <Section title="Noter un contact" id="noter-contact">
            <p class="fr-text--sm">
              Notez chaque tentative, même sans réponse. Les champs marqués d’un astérisque (*) sont
              obligatoires.
            </p>
            <ErrorSummary form={forms.contact} labels={CONTACT_LABELS} idPrefix="contact-" />
            <form method="post" action={`/personnes/${person.id}/contacts`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <OnceKey />
              <div class="fr-grid-row fr-grid-row--gutters">
                <div class="fr-col-12 fr-col-sm-6">
                  <SelectField
                    form={forms.contact}
                    idPrefix="contact-"
                    name="channel"
                    label={CONTACT_LABELS.channel}
                    options={channels}
                    placeholder="Choisir un canal"
                    required
                  />
                </div>
                <div class="fr-col-12 fr-col-sm-6">
                  <SelectField
                    form={forms.contact}
                    idPrefix="contact-"
                    name="outcome"
                    label={CONTACT_LABELS.outcome}
                    options={outcomes}
                    placeholder="Choisir un résultat"
                    required
                  />
                </div>
              </div>
              <TextField
                form={forms.contact}
                idPrefix="contact-"
                name="occurredAt"
                label={CONTACT_LABELS.occurredAt}
                type="datetime-local"
                required
              />
              <TextArea
                form={forms.contact}
                idPrefix="contact-"
                name="summary"
                label={CONTACT_LABELS.summary}
                hint="Facultatif. Ce qui a été dit, ce qui est convenu."
              />
              <TextArea
                form={forms.contact}
                idPrefix="contact-"
                name="privateNote"
                label={CONTACT_LABELS.privateNote}
                hint="Facultatif. Visible par vous seul·e : vos collègues ne la voient pas."
                rows={2}
              />
              <div class="fr-grid-row fr-grid-row--gutters">
                <div class="fr-col-12 fr-col-sm-6">
                  <TextField
                    form={forms.contact}
                    idPrefix="contact-"
                    name="nextFollowUpAt"
                    label={CONTACT_LABELS.nextFollowUpAt}
                    hint="Facultatif : crée un suivi à votre nom"
                    type="datetime-local"
                  />
                </div>
                <div class="fr-col-12 fr-col-sm-6">
                  <TextField
                    form={forms.contact}
                    idPrefix="contact-"
                    name="nextFollowUpTitle"
                    label={CONTACT_LABELS.nextFollowUpTitle}
                    hint="Facultatif, par défaut : Relancer la personne"
                  />
                </div>
              </div>
              <Checkbox
                form={forms.contact}
                idPrefix="contact-"
                name="allowPast"
                label={ALLOW_PAST_LABEL}
                hint="Seulement si le prochain suivi est à une date déjà passée"
              />
              <button type="submit" class="fr-btn">
                Enregistrer le contact
              </button>
            </form>
          </Section>

          <Section title="Planifier un suivi" id="planifier-suivi">
            <ErrorSummary form={forms.plan} labels={PLAN_LABELS} idPrefix="suivi-" />
            <form method="post" action={`/personnes/${person.id}/suivis`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <OnceKey />
              <div class="fr-grid-row fr-grid-row--gutters">
                <div class="fr-col-12 fr-col-sm-7">
                  <TextField
                    form={forms.plan}
                    idPrefix="suivi-"
                    name="title"
                    label={PLAN_LABELS.title}
                    hint="Par exemple : accompagner au rendez-vous CAF"
                    required
                  />
                </div>
                <div class="fr-col-12 fr-col-sm-5">
                  <TextField
                    form={forms.plan}
                    idPrefix="suivi-"
                    name="dueAt"
                    label={PLAN_LABELS.dueAt}
                    type="datetime-local"
                    required
                  />
                </div>
              </div>
              <Checkbox
                form={forms.plan}
                idPrefix="suivi-"
                name="allowPast"
                label={ALLOW_PAST_LABEL}
                hint="Pour noter une action déjà en retard : sans cette case, une date passée est refusée"
              />
              <button type="submit" class="fr-btn fr-btn--secondary">
                Planifier le suivi
              </button>
            </form>
          </Section>
        </div>

        <div class="fr-col-12 fr-col-lg-5">
          <RightsPanel
            ctx={ctx}
            person={person}
            catalogue={rights.catalogue}
            rights={rights.tracked}
            failed={forms.right}
            asked={forms.askedRight}
          />
          <Section title={`Suivis en cours (${openFollowUps.total})`} id="suivis-en-cours">
            <RangeNote
              page={1}
              total={openFollowUps.total}
              pageSize={openFollowUps.pageSize}
              shown={openFollowUps.items.length}
              noun="Les plus proches : suivis"
            />
            <UnlistedAttempt attempt={forms.followUp} listed={openFollowUps.items} />
            <OpenFollowUps
              ctx={ctx}
              person={person}
              items={openFollowUps.items}
              attempt={forms.followUp}
            />
          </Section>
          <Section title="Identité" id="identite">
            <Identity person={person} />
          </Section>
          <Section title="Situation" id="situation">
            {person.situation ? (
              <p class="av-pre">{person.situation}</p>
            ) : (
              <p class="av-muted">Aucune situation décrite pour l’instant.</p>
            )}
          </Section>
        </div>
      </div>

      <Section
        title={timeline.total > 0 ? `Historique (${timeline.total})` : 'Historique'}
        id="historique"
      >
        {timeline.items.length === 0 ? (
          <p>
            {timeline.total === 0
              ? 'Aucun contact ni suivi pour l’instant.'
              : 'Cette page de l’historique est vide.'}
          </p>
        ) : (
          <>
            <RangeNote
              page={timeline.page}
              total={timeline.total}
              pageSize={timeline.pageSize}
              shown={timeline.items.length}
              noun="Du plus récent au plus ancien : événements"
            />
            <ol class="av-list av-timeline">
              {timeline.items.map((item) => (
                <TimelineEntry item={item} rightForms={rightForms} />
              ))}
            </ol>
          </>
        )}
        <Pagination
          page={timeline.page}
          total={timeline.total}
          pageSize={timeline.pageSize}
          href={(n) => timelinePageHref(person.id, n)}
          label="Pages de l’historique"
        />
      </Section>
    </Layout>
  );
}
