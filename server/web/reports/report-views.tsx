import type { DuplicateCandidate, Person } from '../../features/persons/person-repository';
import type { Report, SentReport } from '../../features/reports/report-repository';
import {
  REPORT_LIMITS,
  REPORT_STATUSES,
  type ReportStatus,
} from '../../features/reports/report-schemas';
import type { PublicStructure } from '../../features/reports/report-service';
import type { Page } from '../../lib/validate';
import { formatDate, formatDateTime, personLabel, plural } from '../format';
import {
  CandidateFacts,
  PersonSearch,
  reasonText,
  type PersonSearchResult,
} from '../persons/duplicate-views';
import {
  Csrf,
  OnceKey,
  ErrorSummary,
  StaleAlert,
  Pagination,
  Section,
  TextArea,
  TextField,
  type FormState,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import {
  CHANNEL_LABELS,
  REPORT_FIELD_LABELS,
  REPORT_STATUS_BADGES,
  REPORT_STATUS_LABELS,
  TRIAGE_FIELD_LABELS,
} from './report-labels';

/** The public pages belong to nobody signed in: no menu, no account, whoever opens them. */
export const PUBLIC_CONTEXT: PageContext = {
  actor: null,
  csrfToken: '',
  unread: 0,
  flash: null,
  staff: false,
};

/** What is done with the data, in plain words, on the form itself (before anything is sent). */
function DataNotice({ structure }: { structure: PublicStructure }) {
  return (
    <div class="fr-callout fr-mb-4w" id="vos-donnees">
      <h2 class="fr-callout__title fr-h6">Ce que nous faisons de ces informations</h2>
      <ul class="fr-callout__text fr-text--sm">
        <li>
          Elles sont transmises au seul {structure.name}, dont les travailleurs sociaux les lisent
          pour aller à la rencontre de la personne et lui proposer de l’aide. Elles ne sont ni
          publiées, ni transmises à la police, ni utilisées à d’autres fins.
        </li>
        <li>
          Elles sont conservées chiffrées, au plus {structure.retentionMonths} mois après le dernier
          suivi de la personne ; un signalement écarté n’est pas utilisé.
        </li>
        <li>
          Vous n’êtes pas obligé·e de laisser vos coordonnées. Si vous le faites, elles servent
          seulement à vous recontacter au sujet de ce signalement.
        </li>
        <li>
          Pour consulter, corriger ou faire effacer ce que vous avez transmis, contactez le{' '}
          {structure.name} en donnant votre numéro de reçu.
        </li>
      </ul>
    </div>
  );
}

/** Where, who and what: the fields of the public form and of the partner's. */
function ReportFields({ form }: { form: FormState }) {
  return (
    <>
      <TextField
        form={form}
        name="location"
        label={REPORT_FIELD_LABELS.location}
        hint="Une adresse, un lieu, un arrêt de bus…"
        required
        maxLength={REPORT_LIMITS.location}
      />
      <TextField
        form={form}
        name="who"
        label={REPORT_FIELD_LABELS.who}
        hint="Facultatif : « homme d’environ 50 ans avec un chien »"
        maxLength={REPORT_LIMITS.who}
      />
      <TextArea
        form={form}
        name="concern"
        label={REPORT_FIELD_LABELS.concern}
        hint={`Ce que vous avez vu ou entendu, en ${REPORT_LIMITS.concern} caractères au plus`}
        required
        rows={5}
      />
    </>
  );
}

/** /signaler/:slug — a resident signals someone who may be in difficulty; no account. */
export function PublicReportPage({
  structure,
  form,
  limited,
}: {
  structure: PublicStructure;
  form: FormState;
  /** Too many reports from here: the form says when to come back. */
  limited?: boolean;
}) {
  const hasErrors = Object.keys(form.errors).length > 0 || limited;
  return (
    <Layout title="Signaler une personne en difficulté" hasErrors={hasErrors} ctx={PUBLIC_CONTEXT}>
      <div class="fr-grid-row">
        <div class="fr-col-12 fr-col-md-8">
          <h1>Signaler une personne en difficulté</h1>
          <p class="fr-text--lead">
            Vous croisez quelqu’un qui semble avoir besoin d’aide ? Dites-le au {structure.name} :
            un travailleur social ira à sa rencontre.
          </p>
          <div class="fr-alert fr-alert--warning fr-alert--sm fr-mb-3w">
            <p>
              En cas d’urgence, appelez le 115 (hébergement d’urgence) ou le 112. Ce formulaire
              n’est pas lu la nuit ni le week-end.
            </p>
          </div>
          {limited ? (
            <div class="fr-alert fr-alert--error fr-mb-3w" role="alert" tabIndex={-1} autofocus>
              <p>
                Trop de signalements ont été envoyés en peu de temps. Patientez une heure puis
                recommencez, ou appelez le {structure.name}.
              </p>
            </div>
          ) : null}
          <ErrorSummary form={form} labels={REPORT_FIELD_LABELS} />
          <DataNotice structure={structure} />
          {/* No account to hold a one-time key: the button is only disabled once sent. */}
          <form method="post" action={`/signaler/${structure.slug}`} novalidate data-submit-once>
            <ReportFields form={form} />
            <TextField
              form={form}
              name="reporterContact"
              label={REPORT_FIELD_LABELS.reporterContact}
              hint="Facultatif : téléphone ou adresse électronique"
              autocomplete="email"
              maxLength={REPORT_LIMITS.reporterContact}
            />
            {/* Left empty by people, who never see it; filled by robots. */}
            <div class="av-hp" hidden aria-hidden="true">
              <label for="website">Ne pas remplir</label>
              <input id="website" name="website" type="text" tabIndex={-1} autocomplete="off" />
            </div>
            <button type="submit" class="fr-btn">
              Envoyer le signalement
            </button>
          </form>
        </div>
      </div>
    </Layout>
  );
}

/** After sending: the receipt number to quote, and what happens next. */
export function ReceiptPage({
  structure,
  receiptNumber,
}: {
  structure: PublicStructure;
  receiptNumber: string;
}) {
  return (
    <Layout title="Signalement envoyé" ctx={PUBLIC_CONTEXT}>
      <div class="fr-grid-row">
        <div class="fr-col-12 fr-col-md-8">
          <div class="fr-alert fr-alert--success fr-mb-3w" role="status">
            <h1 class="fr-alert__title">Merci, votre signalement est envoyé</h1>
            <p>
              Numéro de reçu : <strong class="av-receipt">{receiptNumber}</strong>
            </p>
          </div>
          <p>
            Notez ce numéro : il ne contient aucune information sur vous ni sur la personne.
            Citez-le si vous appelez le {structure.name} à propos de ce signalement.
          </p>
          <p>
            Un travailleur social le lira dans les prochains jours ouvrés et décidera de la suite.
            En cas d’urgence, appelez le 115 ou le 112.
          </p>
          <a class="fr-btn fr-btn--secondary" href={`/signaler/${structure.slug}`}>
            Faire un autre signalement
          </a>
        </div>
      </div>
    </Layout>
  );
}

function StatusBadge({ status }: { status: ReportStatus }) {
  return (
    <span class={`fr-badge fr-badge--sm ${REPORT_STATUS_BADGES[status]}`}>
      {REPORT_STATUS_LABELS[status]}
    </span>
  );
}

/** /signalements — the triage queue (waiting reports, oldest first) and the triaged ones. */
export function ReportQueuePage({
  ctx,
  list,
  status,
}: {
  ctx: PageContext;
  list: Page<Report>;
  status: ReportStatus;
}) {
  const title = 'Signalements';
  return (
    <Layout title={title} ctx={ctx} nav="reports">
      <h1>{title}</h1>
      <form method="get" action="/signalements" class="fr-mb-3w av-filters">
        <div class="fr-select-group">
          <label class="fr-label" for="statut">
            Statut
          </label>
          <select class="fr-select" id="statut" name="statut">
            {REPORT_STATUSES.map((s) => (
              <option value={s} selected={s === status}>
                {REPORT_STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <button class="fr-btn fr-btn--secondary fr-btn--sm" type="submit">
          Filtrer
        </button>
      </form>
      <p>
        {list.total === 0
          ? 'Aucun signalement.'
          : plural(list.total, 'signalement', 'signalements') +
            (status === 'pending' ? ' à trier, le plus ancien en premier' : '')}
      </p>
      <ul class="av-list" aria-label="Signalements">
        {list.items.map((r) => (
          <li class="av-item av-item--stack">
            <p class="fr-mb-1v">
              <a href={`/signalements/${r.id}`}>Signalement {r.receiptNumber}</a>{' '}
              <StatusBadge status={r.status} />
            </p>
            <p class="fr-text--sm fr-mb-1v">
              Reçu le {formatDateTime(r.createdAt)} · {CHANNEL_LABELS[r.channel]}
              {r.authorName ? ` (${r.authorName})` : ''}
              {r.triageDueAt ? ` · alerte des cadres le ${formatDate(r.triageDueAt)}` : ''}
            </p>
            <p class="fr-text--sm fr-mb-0 av-report-text">
              {r.location} — {r.concern.length > 160 ? `${r.concern.slice(0, 160)}…` : r.concern}
            </p>
          </li>
        ))}
      </ul>
      <Pagination
        page={list.page}
        total={list.total}
        pageSize={list.pageSize}
        href={(p) => `/signalements?statut=${status}&page=${p}`}
        label="Pages des signalements"
      />
    </Layout>
  );
}

/** The report as received: text only (every value escaped by preact). */
function ReportFacts({ r }: { r: Report }) {
  const rows: [string, string | null][] = [
    ['Reçu le', formatDateTime(r.createdAt)],
    ['Origine', CHANNEL_LABELS[r.channel] + (r.authorName ? ` (${r.authorName})` : '')],
    ['Où', r.location],
    ['Qui', r.who],
    ['Ce qui inquiète', r.concern],
    ['Contact de la personne qui signale', r.reporterContact],
  ];
  return (
    <dl class="av-facts fr-mb-4w">
      {rows.map(([label, value]) => (
        <>
          <dt class="fr-text--bold">{label}</dt>
          <dd class="fr-mb-2w av-report-text">
            {value ?? <span class="av-muted">Non renseigné</span>}
          </dd>
        </>
      ))}
    </dl>
  );
}

function Outcome({ r }: { r: Report }) {
  return (
    <div class="fr-callout fr-mb-4w">
      <p class="fr-callout__text">
        Trié le {formatDateTime(r.triagedAt!)}
        {r.triagedByName ? ` par ${r.triagedByName}` : ''} : {REPORT_STATUS_LABELS[r.status]}.
      </p>
      {r.personId ? (
        <p>
          <a href={`/personnes/${r.personId}`}>Ouvrir la fiche de la personne</a>
        </p>
      ) : null}
      {r.triageReason ? <p class="av-report-text">Motif : {r.triageReason}</p> : null}
    </div>
  );
}

/** Links the report to a file: one button per file offered, a look-alike or one searched for. */
function LinkForm({ ctx, report, person }: { ctx: PageContext; report: Report; person: Person }) {
  return (
    <form method="post" action={`/signalements/${report.id}/tri`}>
      <Csrf token={ctx.csrfToken} />
      <input type="hidden" name="action" value="link" />
      <input type="hidden" name="personId" value={person.id} />
      <button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">
        Rattacher à cette fiche
        <span class="fr-sr-only"> : {personLabel(person)}</span>
      </button>
    </form>
  );
}

/**
 * /signalements/:id — read the report, see who it may be (its look-alikes, or any file of the
 * structure searched for), then create, link or dismiss.
 */
export function ReportTriagePage({
  ctx,
  report: r,
  candidates,
  search,
  form,
}: {
  ctx: PageContext;
  report: Report;
  candidates: DuplicateCandidate[];
  search?: PersonSearchResult;
  form: FormState;
}) {
  const hasErrors = Object.keys(form.errors).length > 0 || Boolean(search?.error);
  const title = `Signalement ${r.receiptNumber}`;
  return (
    <Layout title={`${title}`} hasErrors={hasErrors} ctx={ctx} nav="reports">
      <p class="fr-mb-2w">
        <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/signalements">
          Retour aux signalements
        </a>
      </p>
      <h1>
        {title} <StatusBadge status={r.status} />
      </h1>
      {/* A stale form: someone triaged it meanwhile; the reason typed is quoted. */}
      {form.stale ? (
        <StaleAlert heading title="Ce signalement a été trié pendant que vous le traitiez">
          <p>Rien n’a été enregistré : ce qui a été décidé est indiqué ci-dessous.</p>
          {form.values.reason?.trim() ? (
            <p>
              Le motif que vous aviez saisi, pour le reporter où il faut : «{' '}
              {form.values.reason.trim()} »
            </p>
          ) : null}
        </StaleAlert>
      ) : null}
      <ErrorSummary form={form} labels={TRIAGE_FIELD_LABELS} />
      <ReportFacts r={r} />
      {r.status !== 'pending' ? (
        <Outcome r={r} />
      ) : (
        <>
          <Section title="Déjà connu·e ?" id="deja-connu">
            {candidates.length === 0 ? (
              <p>Aucune fiche de votre structure ne ressemble à cette personne.</p>
            ) : (
              <ul class="av-list" aria-labelledby="deja-connu">
                {candidates.map((c) => (
                  <li class="av-item av-item--stack">
                    <p class="fr-text--bold fr-mb-1v">
                      <a href={`/personnes/${c.id}`}>{personLabel(c)}</a>
                    </p>
                    <CandidateFacts c={c} />
                    <p class="fr-text--sm fr-mb-1w">
                      Pourquoi : {c.reasons.map((x) => reasonText(x, c)).join(', ')}
                    </p>
                    <LinkForm ctx={ctx} report={r} person={c} />
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Chercher une autre fiche" id="chercher">
            <p>La personne a une fiche qui n’est pas proposée ci-dessus ? Cherchez-la.</p>
            <PersonSearch
              action={`/signalements/${r.id}/recherche`}
              csrfToken={ctx.csrfToken}
              search={search}
              pick={(p) => <LinkForm ctx={ctx} report={r} person={p} />}
            />
          </Section>
          <Section title="Créer une fiche" id="creer">
            <p>
              Une nouvelle fiche est créée avec la description comme surnom, le lieu et ce qui
              inquiète dans la situation ; vous en devenez le ou la référent·e.
            </p>
            <form method="post" action={`/signalements/${r.id}/tri`}>
              <Csrf token={ctx.csrfToken} />
              <input type="hidden" name="action" value="create_person" />
              <button type="submit" class="fr-btn">
                Créer la fiche
              </button>
            </form>
          </Section>
          <Section title="Écarter le signalement" id="ecarter">
            <form method="post" action={`/signalements/${r.id}/tri`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <input type="hidden" name="action" value="dismiss" />
              <TextArea
                form={form}
                name="reason"
                label={TRIAGE_FIELD_LABELS.reason}
                hint="Pourquoi ce signalement ne donne pas lieu à une fiche"
                required
              />
              <button type="submit" class="fr-btn fr-btn--secondary">
                Écarter
              </button>
            </form>
          </Section>
        </>
      )}
    </Layout>
  );
}

/** On a partner's inbox: report someone, and the receipts of what they reported. */
export function PartnerReportSection({
  ctx,
  form,
  sent,
}: {
  ctx: PageContext;
  form: FormState;
  sent: Page<SentReport>;
}) {
  return (
    <Section title="Signaler une personne au CCAS" id="signaler">
      <p>
        Une personne que vous accompagnez semble sans recours ? Signalez-la : un travailleur social
        du CCAS ira à sa rencontre.
      </p>
      <ErrorSummary form={form} labels={REPORT_FIELD_LABELS} />
      <form method="post" action="/orientations/signaler" novalidate>
        <Csrf token={ctx.csrfToken} />
        <OnceKey />
        <ReportFields form={form} />
        <button type="submit" class="fr-btn">
          Envoyer le signalement
        </button>
      </form>
      <h3 class="fr-h6 fr-mt-4w" id="mes-signalements">
        Vos signalements
      </h3>
      {sent.total === 0 ? (
        <p>Vous n’avez encore rien signalé.</p>
      ) : (
        <ul class="av-list" aria-labelledby="mes-signalements">
          {sent.items.map((s) => (
            <li class="av-item">
              Reçu {s.receiptNumber} · envoyé le {formatDate(s.createdAt)} ·{' '}
              {s.handled ? 'pris en compte' : 'en attente de tri'}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** On the person's timeline: the report that led to the file or was linked to it. */
export function ReportTimelineEntry({ report: r }: { report: Report }) {
  return (
    <li class="av-item av-item--stack">
      <p class="fr-text--bold fr-mb-1v">
        Signalement · <a href={`/signalements/${r.id}`}>{r.receiptNumber}</a> ·{' '}
        {CHANNEL_LABELS[r.channel]}
      </p>
      <p class="fr-text--sm fr-mb-1v">
        Reçu le {formatDateTime(r.createdAt)} · {REPORT_STATUS_LABELS[r.status].toLowerCase()}
        {r.triagedByName ? ` par ${r.triagedByName}` : ''}
      </p>
      <p class="fr-mb-0 av-report-text">
        {r.location} — {r.concern}
      </p>
    </li>
  );
}
