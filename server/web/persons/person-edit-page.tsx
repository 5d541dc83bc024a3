import type { District } from '../../features/districts/district-repository';
import { mayChooseDistrict } from '../../features/districts/district-schemas';
import type { Person } from '../../features/persons/person-repository';
import { GENDERS, HOUSEHOLD_TYPES, PERSON_SOURCES } from '../../features/persons/person-schemas';
import { formatDateTime, personLabel, SOURCE_LABELS } from '../format';
import {
  Csrf,
  ErrorSummary,
  Section,
  SelectField,
  TextArea,
  TextField,
  type FormState,
  StaleAlert,
  StaleFormAlert,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { StatusBadge } from '../views/persons-page';
import {
  CLOSED_REASON_LABELS,
  districtOptions,
  GENDER_LABELS,
  HOUSEHOLD_LABELS,
} from './person-labels';

export const EDIT_LABELS: Record<string, string> = {
  alias: 'Surnom ou description',
  place: 'Lieu de rencontre',
  firstName: 'Prénom',
  lastName: 'Nom',
  birthYear: 'Année de naissance',
  gender: 'Genre',
  phone: 'Téléphone',
  email: 'Courriel',
  address: 'Adresse postale',
  districtId: 'Quartier',
  householdType: 'Composition du foyer',
  source: 'Comment la personne a été repérée',
  referentId: 'Référent·e',
  pauseReminders: 'Suspendre les relances automatiques',
  situation: 'Situation',
};

export const CLOSE_LABELS: Record<string, string> = { closedReason: 'Motif de clôture' };

/** The fields whose saved value changed under the user, with the saved value as shown. */
export type Conflict = Record<string, string>;

const quoted = (saved: string) => (saved === '' ? 'non renseigné' : `« ${saved} »`);

interface Referent {
  id: string;
  name: string;
}

/** Shown under a field whose saved value differs from what the user typed. */
function Saved({ conflict, name }: { conflict?: Conflict; name: string }) {
  if (!conflict || conflict[name] === undefined) return null;
  return (
    <p class="fr-info-text av-saved fr-mt-n2w fr-mb-3w" id={`${name}-saved`}>
      Valeur enregistrée entre-temps : {quoted(conflict[name])}
    </p>
  );
}

function CloseSection({
  ctx,
  person,
  form,
}: {
  ctx: PageContext;
  person: Person;
  /** A stale one: the file changed since the page was read (409); nothing was saved. */
  form: FormState;
}) {
  const alert = form.stale ? (
    <StaleAlert title="Quelqu’un a modifié cette fiche pendant que vous la clôturiez ou la rouvriez">
      <p>
        {person.closedAt
          ? 'Rien n’a été enregistré : la fiche a été clôturée entre-temps, avec le motif ci-dessous. Rouvrez-la si besoin.'
          : `Rien n’a été enregistré. La fiche est affichée telle qu’elle est maintenant${
              form.values.closedReason ? ', avec le motif que vous aviez choisi' : ''
            } : vérifiez-la, puis recommencez si c’est toujours utile.`}
      </p>
    </StaleAlert>
  ) : null;
  if (person.closedAt) {
    return (
      <Section title="Rouvrir la fiche" id="rouvrir">
        {alert}
        <p>
          Fiche clôturée le {formatDateTime(person.closedAt)}
          {person.closedReason
            ? ` · motif : ${CLOSED_REASON_LABELS[person.closedReason] ?? person.closedReason}`
            : ''}
          . La rouvrir rend à la personne son statut de parcours.
        </p>
        <form method="post" action={`/personnes/${person.id}/rouvrir`}>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="version" value={String(person.version)} />
          <button type="submit" class="fr-btn fr-btn--secondary">
            Rouvrir la fiche
          </button>
        </form>
      </Section>
    );
  }
  return (
    <Section title="Clôturer la fiche" id="cloturer">
      {alert}
      <p class="fr-text--sm">
        Une fiche clôturée reste consultable et peut être rouverte à tout moment.
      </p>
      <ErrorSummary form={form} labels={CLOSE_LABELS} idPrefix="cloture-" />
      <form method="post" action={`/personnes/${person.id}/cloturer`} novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="version" value={String(person.version)} />
        <SelectField
          form={form}
          idPrefix="cloture-"
          name="closedReason"
          label={CLOSE_LABELS.closedReason}
          options={CLOSED_REASON_LABELS}
          placeholder="Choisir un motif"
          required
        />
        <button type="submit" class="fr-btn fr-btn--secondary">
          Clôturer la fiche
        </button>
      </form>
    </Section>
  );
}

/**
 * Completing a file "later": every field of the person, pre-filled, with the version it was
 * read at, so a save over someone else's change is caught instead of silently undoing it.
 */
export function PersonEditPage({
  ctx,
  person,
  form,
  closeForm,
  districts,
  referents,
  conflict,
}: {
  ctx: PageContext;
  /** The person as saved now (the header, the close form's version). */
  person: Person;
  /** What the edit form shows: the saved values, or what the user typed. */
  form: FormState;
  closeForm: FormState;
  districts: District[];
  referents: Referent[];
  conflict?: Conflict;
}) {
  const label = personLabel(person);
  const hasErrors =
    Object.keys(form.errors).length + Object.keys(closeForm.errors).length > 0 ||
    conflict !== undefined;
  const sources = Object.fromEntries(PERSON_SOURCES.map((s) => [s, SOURCE_LABELS[s] ?? s]));
  const genders = Object.fromEntries(GENDERS.map((g) => [g, GENDER_LABELS[g]]));
  const households = Object.fromEntries(HOUSEHOLD_TYPES.map((h) => [h, HOUSEHOLD_LABELS[h]]));
  const referentOptions = Object.fromEntries(referents.map((u) => [u.id, u.name]));
  // A referent whose account was disabled stays visible rather than silently dropped.
  if (person.referentId && !referentOptions[person.referentId])
    referentOptions[person.referentId] = `${person.referentName ?? 'Compte'} (inactif)`;
  // An archived district is offered only to the person already in it, who keeps it.
  const districtChoices = districts.filter((d) => mayChooseDistrict(d, person.districtId));
  const checked = form.values.pauseReminders === '1';
  return (
    <Layout title={`Modifier la fiche de ${label}`} hasErrors={hasErrors} ctx={ctx} nav="persons">
      <p class="fr-mb-2w">
        <a
          class="fr-link fr-icon-arrow-left-line fr-link--icon-left"
          href={`/personnes/${person.id}`}
        >
          Retour à la fiche
        </a>
      </p>
      <div class="av-title-row">
        <h1 class="fr-mb-1w">Modifier la fiche de {label}</h1>
        <p class="fr-mb-0">
          <span class="fr-sr-only">Statut du parcours : </span>
          <StatusBadge status={person.status} />
        </p>
      </div>
      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-8">
          {conflict ? (
            <StaleFormAlert
              title="Quelqu'un a modifié cette fiche pendant que vous la modifiiez"
              changed={conflict}
              labels={EDIT_LABELS}
              then="Vérifiez, puis enregistrez à nouveau pour appliquer vos valeurs, ou annulez pour garder la fiche telle qu’elle est enregistrée."
            />
          ) : null}
          <ErrorSummary form={form} labels={EDIT_LABELS} />
          <p class="fr-text--sm">
            Complétez la fiche au fil des rencontres. Un champ vidé est effacé de la fiche. Les
            champs marqués d’un astérisque (*) sont obligatoires.
          </p>
          <form method="post" action={`/personnes/${person.id}/modifier`} novalidate>
            <Csrf token={ctx.csrfToken} />
            <input type="hidden" name="version" value={form.values.version ?? ''} />
            <fieldset class="fr-fieldset">
              <legend class="fr-fieldset__legend fr-h5">Identité</legend>
              <div class="fr-fieldset__element">
                <TextField
                  form={form}
                  name="alias"
                  label={EDIT_LABELS.alias}
                  hint="Obligatoire si vous ne connaissez ni le prénom ni le nom"
                  autocomplete="off"
                />
                <Saved conflict={conflict} name="alias" />
                <TextField
                  form={form}
                  name="place"
                  label={EDIT_LABELS.place}
                  hint="Où la personne a été rencontrée ou se tient d’habitude"
                  autocomplete="off"
                />
                <Saved conflict={conflict} name="place" />
                <div class="fr-grid-row fr-grid-row--gutters">
                  <div class="fr-col-12 fr-col-sm-6">
                    <TextField
                      form={form}
                      name="firstName"
                      label={EDIT_LABELS.firstName}
                      autocomplete="off"
                    />
                    <Saved conflict={conflict} name="firstName" />
                  </div>
                  <div class="fr-col-12 fr-col-sm-6">
                    <TextField
                      form={form}
                      name="lastName"
                      label={EDIT_LABELS.lastName}
                      autocomplete="off"
                    />
                    <Saved conflict={conflict} name="lastName" />
                  </div>
                  <div class="fr-col-12 fr-col-sm-6">
                    <TextField
                      form={form}
                      name="birthYear"
                      label={EDIT_LABELS.birthYear}
                      hint="Par exemple : 1975"
                      inputmode="numeric"
                      autocomplete="off"
                    />
                    <Saved conflict={conflict} name="birthYear" />
                  </div>
                  <div class="fr-col-12 fr-col-sm-6">
                    <SelectField
                      form={form}
                      name="gender"
                      label={EDIT_LABELS.gender}
                      options={genders}
                      placeholder="Non renseigné"
                    />
                    <Saved conflict={conflict} name="gender" />
                  </div>
                </div>
              </div>
            </fieldset>

            <fieldset class="fr-fieldset">
              <legend class="fr-fieldset__legend fr-h5">Coordonnées</legend>
              <div class="fr-fieldset__element">
                <div class="fr-grid-row fr-grid-row--gutters">
                  <div class="fr-col-12 fr-col-sm-6">
                    <TextField
                      form={form}
                      name="phone"
                      label={EDIT_LABELS.phone}
                      type="tel"
                      autocomplete="off"
                    />
                    <Saved conflict={conflict} name="phone" />
                  </div>
                  <div class="fr-col-12 fr-col-sm-6">
                    <TextField
                      form={form}
                      name="email"
                      label={EDIT_LABELS.email}
                      type="email"
                      autocomplete="off"
                    />
                    <Saved conflict={conflict} name="email" />
                  </div>
                </div>
                {/* Several lines, as on an envelope: a letter prints them as they are. */}
                <TextArea
                  form={form}
                  name="address"
                  label={EDIT_LABELS.address}
                  hint="Sur plusieurs lignes, comme sur une enveloppe ; ou une adresse de domiciliation"
                  rows={3}
                  autocomplete="off"
                />
                <Saved conflict={conflict} name="address" />
                <SelectField
                  form={form}
                  name="districtId"
                  label={EDIT_LABELS.districtId}
                  hint="QPV : quartier prioritaire de la politique de la ville"
                  options={districtOptions(districtChoices)}
                  placeholder="Aucun quartier"
                />
                <Saved conflict={conflict} name="districtId" />
              </div>
            </fieldset>

            <fieldset class="fr-fieldset">
              <legend class="fr-fieldset__legend fr-h5">Accompagnement</legend>
              <div class="fr-fieldset__element">
                <div class="fr-grid-row fr-grid-row--gutters">
                  <div class="fr-col-12 fr-col-sm-6">
                    <SelectField
                      form={form}
                      name="source"
                      label={EDIT_LABELS.source}
                      options={sources}
                      required
                    />
                    <Saved conflict={conflict} name="source" />
                  </div>
                  <div class="fr-col-12 fr-col-sm-6">
                    <SelectField
                      form={form}
                      name="householdType"
                      label={EDIT_LABELS.householdType}
                      options={households}
                      placeholder="Non renseignée"
                    />
                    <Saved conflict={conflict} name="householdType" />
                  </div>
                </div>
                <SelectField
                  form={form}
                  name="referentId"
                  label={EDIT_LABELS.referentId}
                  options={referentOptions}
                  placeholder="Aucun·e référent·e"
                />
                <Saved conflict={conflict} name="referentId" />
                <div class="fr-checkbox-group fr-mb-3w">
                  <input
                    type="checkbox"
                    id="moveFollowUps"
                    name="moveFollowUps"
                    value="1"
                    checked={form.values.moveFollowUps === '1'}
                  />
                  <label class="fr-label" for="moveFollowUps">
                    Si le ou la référent·e change, lui confier aussi les suivis ouverts de cette
                    personne tenus par l’ancien·ne
                  </label>
                </div>
                <div
                  class={`fr-checkbox-group fr-mb-3w${form.errors.pauseReminders ? ' fr-checkbox-group--error' : ''}`}
                >
                  <input
                    type="checkbox"
                    id="pauseReminders"
                    name="pauseReminders"
                    value="1"
                    checked={checked}
                    aria-describedby="pauseReminders-hint"
                  />
                  <label class="fr-label" for="pauseReminders">
                    {EDIT_LABELS.pauseReminders}
                    <span class="fr-hint-text" id="pauseReminders-hint">
                      Aucun message automatique au sujet de cette personne tant que la case est
                      cochée
                    </span>
                  </label>
                </div>
                <Saved conflict={conflict} name="pauseReminders" />
              </div>
            </fieldset>

            <TextArea
              form={form}
              name="situation"
              label={EDIT_LABELS.situation}
              hint="Ce qui aide à reprendre contact ; évitez les détails de santé inutiles."
              rows={5}
            />
            <Saved conflict={conflict} name="situation" />
            <ul class="fr-btns-group fr-btns-group--inline-sm">
              <li>
                <button type="submit" class="fr-btn">
                  Enregistrer les modifications
                </button>
              </li>
              <li>
                <a class="fr-btn fr-btn--secondary" href={`/personnes/${person.id}`}>
                  Annuler
                </a>
              </li>
            </ul>
          </form>
        </div>
        <div class="fr-col-12 fr-col-lg-4">
          <CloseSection ctx={ctx} person={person} form={closeForm} />
        </div>
      </div>
    </Layout>
  );
}
