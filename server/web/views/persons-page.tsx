import type { District } from '../../features/districts/district-repository';
import type { Person } from '../../features/persons/person-repository';
import { PATH_STATUSES } from '../../features/persons/person-schemas';
import type { CappedPage } from '../../lib/validate';
import { formatDateTime, personLabel, plural, STATUS_BADGES, STATUS_LABELS } from '../format';
import { districtOptions } from '../persons/person-labels';
import type { Right } from '../../features/rights/right-repository';
import { NON_TAKE_UP_REASONS, RIGHT_STATUSES } from '../../features/rights/right-schemas';
import { REASON_LABELS, RIGHT_STATUS_LABELS } from '../rights/right-labels';
import {
  Csrf,
  ErrorSummary,
  Pagination,
  SelectField,
  TextField,
  type FormState,
} from './components';
import { Layout, type PageContext } from './layout';

interface PersonFilters {
  q: string;
  statut: string;
  quartier: string;
  mes: boolean;
  /** A right's code, a right status, a non-take-up reason. */
  droit: string;
  statutDroit: string;
  raison: string;
  page: number;
}

export const SEARCH_LABELS: Record<string, string> = {
  q: 'Rechercher',
  statut: 'Statut du parcours',
  quartier: 'Quartier',
  mes: 'Dont je suis référent·e',
  droit: 'Droit',
  statutDroit: 'Statut du droit',
  raison: 'Raison du non-recours',
};

export function StatusBadge({ status }: { status: Person['status'] }) {
  return (
    <span class={`fr-badge fr-badge--sm ${STATUS_BADGES[status]}`}>{STATUS_LABELS[status]}</span>
  );
}

/** Only the page number goes in the address; the filters stay in the session. */
/** The address of a page of the persons list (the search itself stays in the session). */
export const personsPageHref = (page: number) =>
  page === 1 ? '/personnes' : `/personnes?page=${page}`;

const active = (f: PersonFilters) =>
  Boolean(f.q || f.statut || f.quartier || f.mes || f.droit || f.statutDroit || f.raison);

export function PersonsPage({
  ctx,
  filters,
  form,
  districts,
  rights,
  result,
}: {
  ctx: PageContext;
  filters: PersonFilters;
  form: FormState;
  districts: District[];
  /** The catalogue, for the right filter. */
  rights: Right[];
  result: CappedPage<Person>;
}) {
  const rightOptions = Object.fromEntries(rights.map((r) => [r.code, r.label]));
  const rightStatusOptions = Object.fromEntries(
    RIGHT_STATUSES.map((s) => [s, RIGHT_STATUS_LABELS[s]]),
  );
  const reasonOptions = Object.fromEntries(NON_TAKE_UP_REASONS.map((r) => [r, REASON_LABELS[r]]));
  const statusOptions = Object.fromEntries(PATH_STATUSES.map((s) => [s, STATUS_LABELS[s]]));
  const withDistricts = districts.length > 0;
  return (
    <Layout
      title="Personnes"
      hasErrors={Object.keys(form.errors).length > 0}
      ctx={ctx}
      nav="persons"
    >
      <div class="av-title-row">
        <h1>Personnes</h1>
        <a class="fr-btn fr-icon-user-add-line fr-btn--icon-left" href="/personnes/nouvelle">
          Nouvelle personne
        </a>
      </div>
      <ErrorSummary form={form} labels={SEARCH_LABELS} />
      <form method="post" action="/personnes" role="search" class="av-filters fr-mb-4w" novalidate>
        <Csrf token={ctx.csrfToken} />
        <div class="fr-grid-row fr-grid-row--gutters fr-grid-row--bottom">
          <div class={`fr-col-12 fr-col-md-${withDistricts ? '4' : '5'}`}>
            <TextField
              form={form}
              name="q"
              label={SEARCH_LABELS.q}
              hint="Nom, prénom, surnom ou lieu ; les accents et fautes de frappe sont tolérés"
              type="search"
              maxLength={100}
            />
          </div>
          <div class={`fr-col-12 fr-col-md-${withDistricts ? '2' : '3'}`}>
            <SelectField
              form={form}
              name="statut"
              label={SEARCH_LABELS.statut}
              options={statusOptions}
              placeholder="Tous les statuts"
            />
          </div>
          {withDistricts ? (
            <div class="fr-col-12 fr-col-md-2">
              <SelectField
                form={form}
                name="quartier"
                label={SEARCH_LABELS.quartier}
                options={districtOptions(districts)}
                placeholder="Tous les quartiers"
              />
            </div>
          ) : null}
          <div class="fr-col-12 fr-col-md-2">
            <div class="fr-checkbox-group fr-mb-2w">
              <input
                type="checkbox"
                id="mes"
                name="mes"
                value="1"
                checked={form.values.mes === '1'}
              />
              <label class="fr-label" for="mes">
                {SEARCH_LABELS.mes}
              </label>
            </div>
          </div>
          <div class="fr-col-12 fr-col-md-4">
            <SelectField
              form={form}
              name="droit"
              label={SEARCH_LABELS.droit}
              options={rightOptions}
              placeholder="Tous les droits"
            />
          </div>
          <div class="fr-col-12 fr-col-md-3">
            <SelectField
              form={form}
              name="statutDroit"
              label={SEARCH_LABELS.statutDroit}
              options={rightStatusOptions}
              placeholder="Tous les statuts"
            />
          </div>
          <div class="fr-col-12 fr-col-md-3">
            <SelectField
              form={form}
              name="raison"
              label={SEARCH_LABELS.raison}
              options={reasonOptions}
              placeholder="Toutes les raisons"
            />
          </div>
          <div class="fr-col-12 fr-col-md-2">
            <button type="submit" class="fr-btn fr-mb-2w">
              Filtrer
            </button>
            {active(filters) ? (
              <button
                type="submit"
                name="action"
                value="effacer"
                class="fr-btn fr-btn--tertiary fr-btn--sm fr-mb-2w"
              >
                Effacer les filtres
              </button>
            ) : null}
          </div>
        </div>
      </form>
      <h2 class="fr-h5" id="resultats" aria-live="polite">
        {result.total === 0
          ? 'Aucune personne trouvée'
          : result.totalCapped
            ? `Plus de ${result.total.toLocaleString('fr-FR')} personnes trouvées : précisez la recherche`
            : plural(result.total, 'personne trouvée', 'personnes trouvées')}
      </h2>
      {result.total === 0 ? (
        <p>
          Vérifiez l’orthographe ou retirez un filtre. Si la personne n’est pas encore connue,{' '}
          <a href="/personnes/nouvelle">enregistrez-la</a>.
        </p>
      ) : (
        <ul class="av-list" aria-labelledby="resultats">
          {result.items.map((p) => (
            <li class="av-item">
              <div>
                <p class="fr-text--bold fr-mb-1v">
                  <a href={`/personnes/${p.id}`}>{personLabel(p)}</a>
                </p>
                <p class="fr-text--sm fr-mb-0">
                  <StatusBadge status={p.status} />
                  {p.place ? ` · ${p.place}` : ''}
                  {p.districtName ? ` · ${p.districtName}` : ''}
                  {p.referentName ? ` · référent·e : ${p.referentName}` : ''}
                  {` · dernière activité le ${formatDateTime(p.lastActivityAt)}`}
                </p>
              </div>
            </li>
          ))}
        </ul>
      )}
      <Pagination
        page={filters.page}
        total={result.total}
        pageSize={result.pageSize}
        href={personsPageHref}
        label="Pages de la liste des personnes"
      />
    </Layout>
  );
}
