import type { Person } from '../../features/persons/person-repository';
import type { Right, RightChange } from '../../features/rights/right-repository';
import {
  NON_TAKE_UP_REASONS,
  RIGHT_STATUSES,
  rightUpdateForms,
  type RightStatus,
  type RightUpdateForm,
} from '../../features/rights/right-schemas';
import type { PersonRight } from '../../features/rights/right-service';
import { formatDate, formatDateTime } from '../format';
import {
  ArchiveForm,
  Csrf,
  OnceKey,
  emptyForm,
  ErrorSummary,
  Section,
  SelectField,
  StaleAlert,
  TextArea,
  TextField,
  type FormState,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { restoredForm } from '../kept-form';
import {
  moneyFmt,
  PERSON_RIGHT_LABELS,
  NEW_RIGHT_LABELS,
  REASON_LABELS,
  RIGHT_ADMIN_LABELS,
  RIGHT_STATUS_BADGES,
  RIGHT_STATUS_LABELS,
} from './right-labels';

const STATUS_OPTIONS = Object.fromEntries(RIGHT_STATUSES.map((s) => [s, RIGHT_STATUS_LABELS[s]]));
const REASON_OPTIONS = Object.fromEntries(NON_TAKE_UP_REASONS.map((r) => [r, REASON_LABELS[r]]));

/** The form of one right that failed, by right code ("" for the form adding a right). */
export interface RightForm {
  code: string;
  form: FormState;
}

/**
 * A person's right form kept when its session ended (server/web/kept-form.ts): the form of the
 * tracked right it was (the version it showed), or the form adding a right (version 0).
 */
export function restoredRight(ctx: PageContext, personId: string): RightForm | undefined {
  const code = ctx.kept?.values.code ?? '';
  const tracked = Number(ctx.kept?.values.version) > 0;
  const anchor = `#${tracked ? rightAnchor(code) : NEW_RIGHT_ANCHOR}`;
  const form = restoredForm(ctx, `/personnes/${personId}/droits`, anchor);
  return form && { code: tracked ? code : '', form };
}

/** Where a person's right sits on the file. */
export const rightAnchor = (code: string) => `droit-${code}`;
/**
 * The form adding a right to the file, its fields' ids prefixed with it: outside the
 * `droit-<code>` ids, which any code of the catalogue may take (an aid coded "nouveau").
 */
export const NEW_RIGHT_ANCHOR = 'suivre-droit';
const NEW_RIGHT_PREFIX = `${NEW_RIGHT_ANCHOR}-`;

/**
 * The file with the form that updates this right open (`?droit=`, see RightsPanel): the right's
 * own once tracked, else the form adding a right with this one chosen.
 */
export const personRightHref = (personId: string, code: string, form: RightUpdateForm) =>
  `/personnes/${personId}?droit=${code}#${form === 'tracked' ? rightAnchor(code) : NEW_RIGHT_ANCHOR}`;

function RightStatusBadge({ status }: { status: RightStatus }) {
  return (
    <span class={`fr-badge fr-badge--sm fr-badge--no-icon ${RIGHT_STATUS_BADGES[status]}`}>
      {RIGHT_STATUS_LABELS[status]}
    </span>
  );
}

/** "Non recouru · non-connaissance · 607,75 € par mois": a right's state in one line. */
function stateLine(r: Pick<PersonRight, 'status' | 'reason' | 'monthlyAmount'>) {
  return [
    r.reason ? REASON_LABELS[r.reason] : null,
    r.monthlyAmount !== null ? `${moneyFmt.format(r.monthlyAmount)} par mois` : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** A right's state as its form shows it (the amount in French, "1016,05"). */
export const rightFormValues = (
  r: Pick<PersonRight, 'status' | 'reason' | 'monthlyAmount' | 'note'>,
): Record<string, string> => ({
  status: r.status,
  reason: r.reason ?? '',
  monthlyAmount: r.monthlyAmount !== null ? String(r.monthlyAmount).replace('.', ',') : '',
  note: r.note ?? '',
});

/** The small form that sets one right: status, reason, amount, note. Works without JavaScript. */
function RightFields({ form, idPrefix }: { form: FormState; idPrefix: string }) {
  return (
    <>
      <SelectField
        form={form}
        idPrefix={idPrefix}
        name="status"
        label={PERSON_RIGHT_LABELS.status}
        options={STATUS_OPTIONS}
        placeholder="Choisir un statut"
        required
      />
      <SelectField
        form={form}
        idPrefix={idPrefix}
        name="reason"
        label={PERSON_RIGHT_LABELS.reason}
        hint="Obligatoire si le droit n’est pas recouru"
        options={REASON_OPTIONS}
        placeholder="Aucune"
      />
      <TextField
        form={form}
        idPrefix={idPrefix}
        name="monthlyAmount"
        label={PERSON_RIGHT_LABELS.monthlyAmount}
        hint="Facultatif, une fois le droit obtenu"
        inputmode="text"
      />
      <TextArea
        form={form}
        idPrefix={idPrefix}
        name="note"
        label={PERSON_RIGHT_LABELS.note}
        hint="Facultatif"
        rows={2}
      />
    </>
  );
}

/** A right's form sent back with a 409: the form below it holds what was typed. */
function StaleRight({ again }: { again: string }) {
  return (
    <StaleAlert title="Ce droit a été modifié pendant que vous le changiez">
      <p>
        Rien n’a été enregistré. Son état enregistré est affiché juste au-dessus ; ce que vous aviez
        saisi est conservé ci-dessous : vérifiez, puis {again} si c’est toujours juste.
      </p>
    </StaleAlert>
  );
}

function TrackedRight({
  ctx,
  person,
  right,
  failed,
  asked,
}: {
  ctx: PageContext;
  person: Person;
  right: PersonRight;
  failed?: RightForm;
  /** A link asked to update this right: its form is open. */
  asked: boolean;
}) {
  const prefix = `${rightAnchor(right.code)}-`;
  const form = failed?.form ?? emptyForm(rightFormValues(right));
  const line = stateLine(right);
  return (
    <li class="av-item av-item--stack" id={rightAnchor(right.code)}>
      <p class="fr-text--bold fr-mb-1v">
        {right.label} <RightStatusBadge status={right.status} />
        {right.archived ? <span class="av-muted"> (archivé)</span> : null}
      </p>
      {line ? <p class="fr-text--sm fr-mb-1v">{line}</p> : null}
      {right.note ? <p class="fr-text--sm fr-mb-1v av-pre">{right.note}</p> : null}
      <p class="fr-text--xs fr-mb-1v av-muted">
        Mis à jour le {formatDateTime(right.updatedAt)}
        {right.updatedByName ? ` par ${right.updatedByName}` : ''}
      </p>
      {/* An archived aid is no longer offered to anyone new, but the one tracked here is
          followed until it ends (maySetRight): its form stays. */}
      <details open={Boolean(failed) || asked}>
        <summary class="fr-text--sm">
          Changer le statut<span class="fr-sr-only"> : {right.label}</span>
        </summary>
        {/* Sent once (a double tap sends nothing more); a repeat that reaches the server
            anyway finds its change saved (the router's stale path). */}
        <form method="post" action={`/personnes/${person.id}/droits`} novalidate data-submit-once>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="code" value={right.code} />
          <input type="hidden" name="version" value={String(right.version)} />
          {right.archived ? (
            <p class="fr-text--sm fr-mb-1w">
              Cette aide est archivée : elle n’est plus proposée pour un nouveau suivi, mais vous
              pouvez continuer à mettre à jour celui-ci jusqu’à son issue.
            </p>
          ) : null}
          {failed?.form.stale ? <StaleRight again="enregistrez à nouveau" /> : null}
          <ErrorSummary form={form} labels={PERSON_RIGHT_LABELS} idPrefix={prefix} />
          <RightFields form={form} idPrefix={prefix} />
          <button type="submit" class="fr-btn fr-btn--sm">
            Enregistrer<span class="fr-sr-only"> : {right.label}</span>
          </button>
        </form>
      </details>
    </li>
  );
}

/**
 * The rights panel of a person's file: the rights tracked, each with a small form to change it,
 * and one form to start tracking another right of the catalogue. Made for a phone: one column,
 * the forms folded until asked for: by a form sent back, or by a link naming a right
 * (`asked`, the file's `?droit=`), which opens that right's form, or the form adding a right with
 * it chosen when it is not tracked yet and may be (rightUpdateForms).
 */
export function RightsPanel({
  ctx,
  person,
  catalogue,
  rights,
  failed,
  asked,
}: {
  ctx: PageContext;
  person: Person;
  catalogue: Right[];
  rights: PersonRight[];
  failed?: RightForm;
  asked?: string;
}) {
  const forms = rightUpdateForms(catalogue, rights);
  // A right not tracked yet is offered only if it may be set (maySetRight: not archived).
  const untracked = catalogue.filter((r) => forms.get(r.code) === 'new');
  const askedForm = asked !== undefined && !failed ? forms.get(asked) : undefined;
  const newForm =
    failed?.code === ''
      ? failed.form
      : { values: askedForm === 'new' && asked ? { code: asked } : {}, errors: {} };
  const codeOptions = Object.fromEntries(untracked.map((r) => [r.code, r.label]));
  return (
    <Section title={`Droits et aides (${rights.length})`} id="droits">
      {rights.length === 0 ? (
        <p class="fr-text--sm">Aucun droit suivi pour l’instant.</p>
      ) : (
        <ul class="av-list">
          {rights.map((r) => (
            <TrackedRight
              ctx={ctx}
              person={person}
              right={r}
              failed={failed?.code === r.code ? failed : undefined}
              asked={askedForm === 'tracked' && asked === r.code}
            />
          ))}
        </ul>
      )}
      {untracked.length > 0 ? (
        <details open={failed?.code === '' || askedForm === 'new'} id={NEW_RIGHT_ANCHOR}>
          <summary class="fr-text--sm fr-text--bold">Suivre un autre droit</summary>
          <form method="post" action={`/personnes/${person.id}/droits`} novalidate data-submit-once>
            <Csrf token={ctx.csrfToken} />
            <input type="hidden" name="version" value="0" />
            <ErrorSummary form={newForm} labels={NEW_RIGHT_LABELS} idPrefix={NEW_RIGHT_PREFIX} />
            <SelectField
              form={newForm}
              idPrefix={NEW_RIGHT_PREFIX}
              name="code"
              label={NEW_RIGHT_LABELS.code}
              options={codeOptions}
              placeholder="Choisir un droit"
              required
            />
            <RightFields form={newForm} idPrefix={NEW_RIGHT_PREFIX} />
            <button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">
              Suivre ce droit
            </button>
          </form>
        </details>
      ) : null}
    </Section>
  );
}

/** A change of a right on the person's timeline. */
export function RightTimelineEntry({ change }: { change: RightChange }) {
  const line = stateLine(change);
  return (
    <li class="av-item av-item--stack">
      <p class="fr-text--bold fr-mb-1v">
        Droit · {change.label} · {RIGHT_STATUS_LABELS[change.status]}
      </p>
      <p class="fr-text--sm fr-mb-1v">
        {formatDateTime(change.at)}
        {change.actorName ? ` · par ${change.actorName}` : ''}
        {change.fromStatus ? ` · auparavant : ${RIGHT_STATUS_LABELS[change.fromStatus]}` : ''}
      </p>
      {line ? <p class="fr-text--sm fr-mb-1v">{line}</p> : null}
      {change.note ? <p class="fr-mb-0 av-pre">{change.note}</p> : null}
    </li>
  );
}

/** The admin page of the catalogue: add a local aid, rename, archive or restore any right. */
export function AdminRightsPage({
  ctx,
  rights,
  form,
  failed,
}: {
  ctx: PageContext;
  rights: Right[];
  /** The form adding a right. */
  form: FormState;
  /** A rename that failed, by right code. */
  failed?: RightForm;
}) {
  const hasErrors =
    Object.keys(form.errors).length + Object.keys(failed?.form.errors ?? {}).length > 0;
  return (
    <Layout title="Droits et aides" hasErrors={hasErrors} ctx={ctx} nav="rights">
      <h1>Droits et aides</h1>
      <p>
        Le catalogue des droits suivis par votre structure : les droits nationaux et vos aides
        facultatives. Un droit n’est jamais supprimé : archivez-le pour ne plus le proposer ; les
        personnes qui le suivent le gardent.
      </p>
      <Section title="Ajouter une aide" id="ajouter">
        <ErrorSummary form={form} labels={RIGHT_ADMIN_LABELS} idPrefix="nouveau-" />
        <form method="post" action="/admin/droits" novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <TextField
            form={form}
            idPrefix="nouveau-"
            name="label"
            label={RIGHT_ADMIN_LABELS.label}
            hint="Par exemple : Aide à la cantine scolaire"
            required
          />
          <TextField
            form={form}
            idPrefix="nouveau-"
            name="code"
            label={RIGHT_ADMIN_LABELS.code}
            hint="Lettres minuscules sans accent, chiffres ou _ ; par exemple aide_cantine. Il ne change plus ensuite."
            required
          />
          <button type="submit" class="fr-btn">
            Ajouter l’aide
          </button>
        </form>
      </Section>
      <Section title={`Catalogue (${rights.length})`} id="catalogue">
        <ul class="av-list">
          {rights.map((r) => {
            const prefix = `droit-${r.code}-`;
            const rename =
              failed?.code === r.code ? failed.form : { values: { label: r.label }, errors: {} };
            return (
              <li class="av-item av-item--stack" id={`droit-${r.code}`}>
                <p class="fr-text--bold fr-mb-1v">
                  {r.label}{' '}
                  <span class="fr-badge fr-badge--sm fr-badge--no-icon">
                    {r.kind === 'national' ? 'National' : 'Local'}
                  </span>
                  {r.archivedAt ? (
                    <span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning fr-ml-1w">
                      Archivé le {formatDate(r.archivedAt)}
                    </span>
                  ) : null}
                </p>
                <p class="fr-text--xs fr-mb-1v av-muted">Code : {r.code}</p>
                <div class="av-actions">
                  <form method="post" action={`/admin/droits/${r.code}`} novalidate>
                    <Csrf token={ctx.csrfToken} />
                    <input type="hidden" name="version" value={String(r.version)} />
                    {failed?.code === r.code && failed.form.stale ? (
                      <StaleRight again="renommez-le à nouveau" />
                    ) : null}
                    <ErrorSummary form={rename} labels={RIGHT_ADMIN_LABELS} idPrefix={prefix} />
                    <TextField
                      form={rename}
                      idPrefix={prefix}
                      name="label"
                      label={`Nouvel intitulé de « ${r.label} »`}
                      required
                    />
                    <button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">
                      Renommer<span class="fr-sr-only"> : {r.label}</span>
                    </button>
                  </form>
                  <ArchiveForm
                    action={`/admin/droits/${r.code}/archive`}
                    csrfToken={ctx.csrfToken}
                    version={r.version}
                    archived={!!r.archivedAt}
                    name={r.label}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      </Section>
    </Layout>
  );
}
