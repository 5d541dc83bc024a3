import type { District } from '../../features/districts/district-repository';
import type { DuplicateCandidate } from '../../features/persons/person-repository';
import { DuplicateCandidates } from '../persons/duplicate-views';
import { PERSON_SOURCES } from '../../features/persons/person-schemas';
import { districtOptions } from '../persons/person-labels';
import { SOURCE_LABELS } from '../format';
import {
  Csrf,
  OnceKey,
  ErrorSummary,
  SelectField,
  TextArea,
  TextField,
  type FormState,
} from './components';
import { Layout, type PageContext } from './layout';

export const INTAKE_LABELS: Record<string, string> = {
  alias: 'Surnom ou description',
  place: 'Lieu de rencontre',
  source: 'Comment la personne a été repérée',
  firstName: 'Prénom',
  lastName: 'Nom',
  birthYear: 'Année de naissance',
  phone: 'Téléphone',
  districtId: 'Quartier',
  situation: 'Situation',
};

/** Alias first: a person met in the street often has no name yet; the rest comes later. */
export function IntakePage({
  ctx,
  form,
  districts,
  candidates,
  checked,
}: {
  ctx: PageContext;
  form: FormState;
  districts: District[];
  /** Known files that look like the person typed ("Déjà connu·e ?"), before one is made. */
  candidates?: DuplicateCandidate[];
  /** The mark of the values those candidates were found for: sent again, they are not. */
  checked?: string;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const offered = candidates !== undefined && candidates.length > 0;
  const sources = Object.fromEntries(PERSON_SOURCES.map((s) => [s, SOURCE_LABELS[s] ?? s]));
  return (
    <Layout
      title={offered && !hasErrors ? 'Déjà connu·e ? — Nouvelle personne' : 'Nouvelle personne'}
      hasErrors={hasErrors}
      ctx={ctx}
      nav="persons"
    >
      <div class="fr-grid-row">
        <div class="fr-col-12 fr-col-md-8 fr-col-lg-7">
          <h1>Nouvelle personne</h1>
          <p>
            Un surnom ou une courte description suffit pour commencer. Vous compléterez la fiche au
            fil des rencontres. Les champs marqués d’un astérisque (*) sont obligatoires.
          </p>
          {offered ? <DuplicateCandidates items={candidates} /> : null}
          <ErrorSummary form={form} labels={INTAKE_LABELS} />
          <form method="post" action="/personnes/nouvelle" novalidate>
            <Csrf token={ctx.csrfToken} />
            <OnceKey />
            {offered && checked ? <input type="hidden" name="verifie" value={checked} /> : null}
            <TextField
              form={form}
              name="alias"
              label={INTAKE_LABELS.alias}
              hint="Par exemple : homme ~50 ans, parvis de la médiathèque. Surnom ou nom obligatoire."
            />
            <TextField
              form={form}
              name="place"
              label={INTAKE_LABELS.place}
              hint="Facultatif. Où la personne a été rencontrée ou se tient d’habitude, par exemple : quai Ligny"
              autocomplete="off"
            />
            <SelectField
              form={form}
              name="source"
              label={INTAKE_LABELS.source}
              options={sources}
              required
            />
            <div class="fr-grid-row fr-grid-row--gutters">
              <div class="fr-col-12 fr-col-sm-6">
                <TextField
                  form={form}
                  name="firstName"
                  label={INTAKE_LABELS.firstName}
                  hint="Facultatif"
                  autocomplete="off"
                />
              </div>
              <div class="fr-col-12 fr-col-sm-6">
                <TextField
                  form={form}
                  name="lastName"
                  label={INTAKE_LABELS.lastName}
                  hint="Facultatif"
                  autocomplete="off"
                />
              </div>
              <div class="fr-col-12 fr-col-sm-6">
                <TextField
                  form={form}
                  name="birthYear"
                  label={INTAKE_LABELS.birthYear}
                  hint="Facultatif, par exemple : 1975"
                  inputmode="numeric"
                  autocomplete="off"
                />
              </div>
              <div class="fr-col-12 fr-col-sm-6">
                <TextField
                  form={form}
                  name="phone"
                  label={INTAKE_LABELS.phone}
                  hint="Facultatif"
                  type="tel"
                  autocomplete="off"
                />
              </div>
            </div>
            {districts.length > 0 ? (
              <SelectField
                form={form}
                name="districtId"
                label={INTAKE_LABELS.districtId}
                hint="Facultatif. QPV : quartier prioritaire de la politique de la ville"
                options={districtOptions(districts)}
                placeholder="Quartier inconnu"
              />
            ) : null}
            <TextArea
              form={form}
              name="situation"
              label={INTAKE_LABELS.situation}
              hint="Facultatif. Ce qui aide à reprendre contact ; évitez les détails de santé inutiles."
              rows={4}
            />
            <ul class="fr-btns-group fr-btns-group--inline-sm">
              <li>
                <button type="submit" class="fr-btn">
                  {offered
                    ? 'Ce n’est pas la même personne : enregistrer'
                    : 'Enregistrer la personne'}
                </button>
              </li>
              <li>
                <a class="fr-btn fr-btn--secondary" href="/personnes">
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
