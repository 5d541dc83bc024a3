import type { ComponentChildren } from 'preact';
import type {
  DuplicateCandidate,
  DuplicateReason,
  Person,
} from '../../features/persons/person-repository';
import type { Holdings } from '../../features/persons/person-merge-repository';
import { mergeReopensKept } from '../../features/persons/person-merge-service';
import { formatDate, formatDateTime, personLabel, plural, SOURCE_LABELS } from '../format';
import { Csrf, Section, StaleAlert } from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { StatusBadge } from '../views/persons-page';

/** The label of the search for a file to pick (a merge's other file, a report's file). */
export const PERSON_SEARCH_LABELS = { q: 'Nom, prénom, surnom ou lieu' };

/** Why a known file was offered, as the page says it. */
export function reasonText(r: DuplicateReason, c: Person): string {
  switch (r.field) {
    case 'name':
      return 'nom proche';
    case 'alias':
      return 'surnom ou description proche';
    case 'place':
      return c.place ? `lieu proche (${c.place})` : 'lieu proche';
    case 'phone':
      return 'même numéro de téléphone';
    case 'birthYear':
      return `même année de naissance (${c.birthYear})`;
  }
}

/** One line about a known file: its status, where, born when, its last activity. */
export function CandidateFacts({ c }: { c: Person }) {
  return (
    <p class="fr-text--sm fr-mb-1v">
      <StatusBadge status={c.status} />
      {c.place ? ` · ${c.place}` : ''}
      {c.districtName ? ` · ${c.districtName}` : ''}
      {c.birthYear ? ` · né·e en ${c.birthYear}` : ''}
      {` · dernière activité le ${formatDate(c.lastActivityAt)}`}
    </p>
  );
}

/**
 * "Déjà connu·e ?": the files that look like the person being recorded, each with why, before a
 * new file is made. The user opens one, or goes on (the form below keeps what was typed).
 */
export function DuplicateCandidates({ items }: { items: DuplicateCandidate[] }) {
  return (
    <div class="fr-callout fr-mb-4w av-duplicates" id="deja-connu">
      <h2 class="fr-callout__title" tabIndex={-1} autofocus>
        Déjà connu·e ?
      </h2>
      <p class="fr-callout__text fr-mb-2w">
        {items.length > 1
          ? `${items.length} fiches ressemblent à la personne que vous enregistrez.`
          : 'Une fiche ressemble à la personne que vous enregistrez.'}{' '}
        Si c’est la même personne, ouvrez sa fiche. Sinon, enregistrez la nouvelle fiche plus bas :
        vos saisies sont conservées.
      </p>
      <ul class="av-list" aria-label="Fiches qui ressemblent à cette personne">
        {items.map((c) => (
          <li class="av-item av-item--stack">
            <p class="fr-text--bold fr-mb-1v">
              <a href={`/personnes/${c.id}`}>
                {personLabel(c)}
                <span class="fr-sr-only"> : ouvrir sa fiche</span>
              </a>
            </p>
            <CandidateFacts c={c} />
            <p class="fr-text--sm fr-mb-0">
              Pourquoi : {c.reasons.map((r) => reasonText(r, c)).join(', ')}
            </p>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A search for a file of the structure on a page that picks one: what was typed, what it found. */
export interface PersonSearchResult {
  q: string;
  items: Person[];
  /** The term was refused (empty, too long): nothing was searched. */
  error?: string;
}

/**
 * The search for a file of the structure, where a page picks one (the other file of a merge, the
 * file a report is linked to): the form, then each file found with the page's own action for it.
 */
export function PersonSearch({
  action,
  csrfToken,
  search,
  pick,
  noneFound = 'Aucune fiche trouvée',
}: {
  /** Where the search is posted (the term is personal data: never in an address). */
  action: string;
  csrfToken: string;
  search?: PersonSearchResult;
  pick: (p: Person) => ComponentChildren;
  noneFound?: string;
}) {
  return (
    <>
      <form method="post" action={action} novalidate>
        <Csrf token={csrfToken} />
        <div class={`fr-input-group${search?.error ? ' fr-input-group--error' : ''}`}>
          <label class="fr-label" for="q">
            {PERSON_SEARCH_LABELS.q}
            <span class="fr-hint-text">Les accents et fautes de frappe sont tolérés</span>
          </label>
          <input
            class={`fr-input${search?.error ? ' fr-input--error' : ''}`}
            id="q"
            name="q"
            type="search"
            autocomplete="off"
            value={search?.q ?? ''}
            aria-describedby={search?.error ? 'q-error' : undefined}
          />
          {search?.error ? (
            <p id="q-error" class="fr-error-text">
              {search.error}
            </p>
          ) : null}
        </div>
        <button type="submit" class="fr-btn fr-btn--secondary">
          Chercher
        </button>
      </form>
      {search && !search.error ? (
        <>
          <h3 class="fr-h6 fr-mt-3w" id="trouvees">
            {search.items.length === 0
              ? noneFound
              : plural(search.items.length, 'fiche trouvée', 'fiches trouvées')}
          </h3>
          <ul class="av-list" aria-labelledby="trouvees">
            {search.items.map((c) => (
              <li class="av-item av-item--stack">
                <p class="fr-text--bold fr-mb-1v">{personLabel(c)}</p>
                <CandidateFacts c={c} />
                {pick(c)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

/** The merge page's choice of the other file: its look-alikes, or a search. */
export interface MergeChoice {
  candidates: DuplicateCandidate[];
  search?: PersonSearchResult;
}

/** The two files side by side, for the manager to confirm. */
export interface MergeComparison {
  other: Person;
  holdings: { self: Holdings; other: Holdings };
  /** Which file is kept: this one (`ce`) or the other (`autre`). */
  keep: 'ce' | 'autre';
  /** The files changed since the comparison was shown: they are shown again as they stand. */
  stale?: boolean;
  error?: string;
}

const value = (v: string | number | null | undefined) =>
  v === null || v === undefined || v === '' ? (
    <span class="av-muted">Non renseigné</span>
  ) : (
    String(v)
  );

function ComparisonTable({
  self,
  other,
  holdings,
}: {
  self: Person;
  other: Person;
  holdings: MergeComparison['holdings'];
}) {
  const rows: [string, (p: Person, h: Holdings) => string | number | null][] = [
    ['Surnom ou description', (p) => p.alias],
    ['Prénom', (p) => p.firstName],
    ['Nom', (p) => p.lastName],
    ['Année de naissance', (p) => p.birthYear],
    ['Lieu de rencontre', (p) => p.place],
    ['Téléphone', (p) => p.phone],
    ['Courriel', (p) => p.email],
    ['Adresse', (p) => p.address],
    ['Quartier', (p) => p.districtName],
    ['Repérée par', (p) => SOURCE_LABELS[p.source] ?? p.source],
    ['Référent·e', (p) => p.referentName],
    ['Créée le', (p) => formatDateTime(p.createdAt)],
    ['Dernière activité', (p) => formatDateTime(p.lastActivityAt)],
    ['Contacts', (_p, h) => h.contacts],
    ['Suivis', (_p, h) => `${h.followUps} (dont ${h.openFollowUps} ouverts)`],
    ['Droits suivis', (_p, h) => h.rights],
    ['Consentements', (_p, h) => h.consents],
    ['Orientations', (_p, h) => h.referrals],
  ];
  return (
    <div class="fr-table fr-table--no-caption-top av-merge-table">
      <table>
        <caption>Les deux fiches côte à côte</caption>
        <thead>
          <tr>
            <th scope="col">Champ</th>
            <th scope="col">Cette fiche</th>
            <th scope="col">L’autre fiche</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Statut du parcours</th>
            <td>
              <StatusBadge status={self.status} />
            </td>
            <td>
              <StatusBadge status={other.status} />
            </td>
          </tr>
          {rows.map(([label, get]) => (
            <tr>
              <th scope="row">{label}</th>
              <td>{value(get(self, holdings.self))}</td>
              <td>{value(get(other, holdings.other))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Choose({
  ctx,
  person,
  choice,
}: {
  ctx: PageContext;
  person: Person;
  choice: MergeChoice;
}) {
  const href = (p: Person) => `/personnes/${person.id}/fusion?avec=${p.id}`;
  return (
    <>
      <Section title="Les fiches qui lui ressemblent" id="ressemblantes">
        {choice.candidates.length === 0 ? (
          <p>Aucune autre fiche ne ressemble à celle-ci. Cherchez l’autre fiche ci-dessous.</p>
        ) : (
          <ul class="av-list" aria-labelledby="ressemblantes">
            {choice.candidates.map((c) => (
              <li class="av-item av-item--stack">
                <p class="fr-text--bold fr-mb-1v">{personLabel(c)}</p>
                <CandidateFacts c={c} />
                <p class="fr-text--sm fr-mb-1w">
                  Pourquoi : {c.reasons.map((r) => reasonText(r, c)).join(', ')}
                </p>
                <p class="fr-mb-0">
                  <a class="fr-btn fr-btn--sm fr-btn--secondary" href={href(c)}>
                    Comparer avec cette fiche
                    <span class="fr-sr-only"> : {personLabel(c)}</span>
                  </a>
                </p>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Chercher l’autre fiche" id="chercher">
        <PersonSearch
          action={`/personnes/${person.id}/fusion/recherche`}
          csrfToken={ctx.csrfToken}
          search={choice.search}
          noneFound="Aucune autre fiche trouvée"
          pick={(c) => (
            <p class="fr-mb-0">
              <a class="fr-btn fr-btn--sm fr-btn--secondary" href={href(c)}>
                Comparer avec cette fiche
                <span class="fr-sr-only"> : {personLabel(c)}</span>
              </a>
            </p>
          )}
        />
      </Section>
    </>
  );
}

function Compare({
  ctx,
  person,
  comparison,
}: {
  ctx: PageContext;
  person: Person;
  comparison: MergeComparison;
}) {
  const { other } = comparison;
  return (
    <>
      {comparison.stale ? (
        <StaleAlert heading title="Une des deux fiches a changé entre-temps">
          <p>
            Rien n’est fusionné. La comparaison ci-dessous montre les fiches telles qu’elles sont
            maintenant : vérifiez-la, puis confirmez à nouveau.
          </p>
        </StaleAlert>
      ) : null}
      {comparison.error ? (
        <div class="fr-alert fr-alert--error fr-mb-3w" role="alert" tabIndex={-1} autofocus>
          <p>{comparison.error}</p>
        </div>
      ) : null}
      <ComparisonTable self={person} other={other} holdings={comparison.holdings} />
      <Section title="Confirmer la fusion" id="confirmer">
        <ul>
          <li>
            Les contacts, suivis, droits, consentements et orientations des deux fiches sont réunis
            sur la fiche conservée ; l’historique de chaque droit est gardé.
          </li>
          <li>
            La fiche conservée garde ses informations et reprend celles de l’autre qui lui manquent
            ; les deux situations sont gardées l’une après l’autre.
          </li>
          <li>
            L’autre fiche disparaît : son adresse ne mène plus à rien. Le journal d’audit garde la
            trace de la fusion.
          </li>
          {mergeReopensKept(person, other) ? (
            <li>
              Cette fiche est clôturée, l’autre non : si vous conservez cette fiche, la fiche
              conservée sera rouverte et ses relances reprendront.
            </li>
          ) : null}
          {mergeReopensKept(other, person) ? (
            <li>
              L’autre fiche est clôturée, celle-ci non : si vous conservez l’autre fiche, la fiche
              conservée sera rouverte et ses relances reprendront.
            </li>
          ) : null}
        </ul>
        <form method="post" action={`/personnes/${person.id}/fusion`} novalidate data-submit-once>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="avec" value={other.id} />
          <input type="hidden" name="versionCe" value={String(person.version)} />
          <input type="hidden" name="versionAutre" value={String(other.version)} />
          <fieldset class="fr-fieldset" aria-labelledby="garder-legend">
            <legend class="fr-fieldset__legend" id="garder-legend">
              Quelle fiche conserver ?
            </legend>
            <div class="fr-fieldset__element">
              <div class="fr-radio-group">
                <input
                  type="radio"
                  id="garder-ce"
                  name="garder"
                  value="ce"
                  checked={comparison.keep === 'ce'}
                />
                <label class="fr-label" for="garder-ce">
                  Cette fiche : {personLabel(person)}
                </label>
              </div>
            </div>
            <div class="fr-fieldset__element">
              <div class="fr-radio-group">
                <input
                  type="radio"
                  id="garder-autre"
                  name="garder"
                  value="autre"
                  checked={comparison.keep === 'autre'}
                />
                <label class="fr-label" for="garder-autre">
                  L’autre fiche : {personLabel(other)}
                </label>
              </div>
            </div>
          </fieldset>
          <ul class="fr-btns-group fr-btns-group--inline-sm">
            <li>
              <button type="submit" class="fr-btn">
                Fusionner les deux fiches
              </button>
            </li>
            <li>
              <a class="fr-btn fr-btn--secondary" href={`/personnes/${person.id}/fusion`}>
                Choisir une autre fiche
              </a>
            </li>
          </ul>
        </form>
      </Section>
    </>
  );
}

/**
 * /personnes/:id/fusion, for managers: pick the other file of the same person (its look-alikes
 * first, or a search), see both side by side, choose the one kept and confirm.
 */
export function MergePage({
  ctx,
  person,
  choice,
  comparison,
}: {
  ctx: PageContext;
  person: Person;
  choice?: MergeChoice;
  comparison?: MergeComparison;
}) {
  const label = personLabel(person);
  const hasErrors = Boolean(comparison?.stale || comparison?.error || choice?.search?.error);
  return (
    <Layout title={`Fusionner la fiche de ${label}`} hasErrors={hasErrors} ctx={ctx} nav="persons">
      <p class="fr-mb-2w">
        <a
          class="fr-link fr-icon-arrow-left-line fr-link--icon-left"
          href={`/personnes/${person.id}`}
        >
          Retour à la fiche
        </a>
      </p>
      <h1>Fusionner la fiche de {label}</h1>
      <p>
        Quand une même personne a deux fiches, réunissez-les en une seule : rien de ce qui a été
        noté n’est perdu.
      </p>
      {comparison ? (
        <Compare ctx={ctx} person={person} comparison={comparison} />
      ) : (
        <Choose ctx={ctx} person={person} choice={choice ?? { candidates: [] }} />
      )}
    </Layout>
  );
}
