import type { District } from '../../features/persons/district-repository';
import type { Person } from '../../features/persons/person-repository';
import { PATH_STATUSES } from '../../features/persons/person-schemas';
import type { Page } from '../../lib/validate';
import { formatDateTime, personLabel, plural, STATUS_BADGES, STATUS_LABELS } from '../format';
import { districtOptions } from '../persons/person-labels';
import { Pagination, SelectField, TextField, type FormState } from './components';
import { Layout, type PageContext } from './layout';

export interface PersonFilters {
  q: string;
  statut: string;
  quartier: string;
  mes: boolean;
  page: number;
}

export function StatusBadge({ status }: { status: Person['status'] }) {
  return (
    <span class={`fr-badge fr-badge--sm ${STATUS_BADGES[status]}`}>{STATUS_LABELS[status]}</span>
  );
}

function pageHref(f: PersonFilters, page: number) {
  const qs = new URLSearchParams();
  if (f.q) qs.set('q', f.q);
  if (f.statut) qs.set('statut', f.statut);
  if (f.quartier) qs.set('quartier', f.quartier);
  if (f.mes) qs.set('mes', '1');
  qs.set('page', String(page));
  return `/personnes?${qs.toString()}`;
}

export function PersonsPage({
  ctx,
  filters,
  form,
  districts,
  result,
}: {
  ctx: PageContext;
  filters: PersonFilters;
  form: FormState;
  districts: District[];
  result: Page<Person>;
}) {
  const statusOptions = Object.fromEntries(PATH_STATUSES.map((s) => [s, STATUS_LABELS[s]]));
  const withDistricts = districts.length > 0;
  return (
    <Layout title="Personnes" ctx={ctx} nav="persons">
      <div class="av-title-row">
        <h1>Personnes</h1>
        <a class="fr-btn fr-icon-user-add-line fr-btn--icon-left" href="/personnes/nouvelle">
          Nouvelle personne
        </a>
      </div>
      <form method="get" action="/personnes" role="search" class="av-filters fr-mb-4w">
        <div class="fr-grid-row fr-grid-row--gutters fr-grid-row--bottom">
          <div class={`fr-col-12 fr-col-md-${withDistricts ? '4' : '5'}`}>
            <TextField
              form={form}
              name="q"
              label="Rechercher"
              hint="Nom, prénom, surnom ou lieu ; les accents et fautes de frappe sont tolérés"
              type="search"
            />
          </div>
          <div class={`fr-col-12 fr-col-md-${withDistricts ? '2' : '3'}`}>
            <SelectField
              form={form}
              name="statut"
              label="Statut du parcours"
              options={statusOptions}
              placeholder="Tous les statuts"
            />
          </div>
          {withDistricts ? (
            <div class="fr-col-12 fr-col-md-2">
              <SelectField
                form={form}
                name="quartier"
                label="Quartier"
                options={districtOptions(districts)}
                placeholder="Tous les quartiers"
              />
            </div>
          ) : null}
          <div class="fr-col-12 fr-col-md-2">
            <div class="fr-checkbox-group fr-mb-2w">
              <input type="checkbox" id="mes" name="mes" value="1" checked={filters.mes} />
              <label class="fr-label" for="mes">
                Dont je suis référent·e
              </label>
            </div>
          </div>
          <div class="fr-col-12 fr-col-md-2">
            <button type="submit" class="fr-btn fr-mb-2w">
              Filtrer
            </button>
          </div>
        </div>
      </form>
      <h2 class="fr-h5" id="resultats" aria-live="polite">
        {result.total === 0
          ? 'Aucune personne trouvée'
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
        href={(n) => pageHref(filters, n)}
        label="Pages de la liste des personnes"
      />
    </Layout>
  );
}
