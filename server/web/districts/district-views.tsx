import type { District } from '../../features/districts/district-repository';
import { formatDate } from '../format';
import {
  Checkbox,
  ArchiveForm,
  Csrf,
  OnceKey,
  ErrorSummary,
  Section,
  StaleAlert,
  TextField,
  type FormState,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { DISTRICT_LABELS } from './district-labels';

/** The form of one district that failed, by district id. */
export interface DistrictForm {
  id: string;
  form: FormState;
}

/** Where a district sits on the admin page. */
export const districtAnchor = (id: string) => `quartier-${id}`;

/** A district as its form shows it: every value a string, the box ticked as "1". */
export const districtFormValues = (d: District): Record<string, string> => ({
  name: d.name,
  code: d.code ?? '',
  qpv: d.qpv ? '1' : '',
});

/** Name, code and QPV box: the form adding a district and the one changing it. */
function DistrictFields({ form, idPrefix }: { form: FormState; idPrefix: string }) {
  return (
    <>
      <TextField
        form={form}
        idPrefix={idPrefix}
        name="name"
        label={DISTRICT_LABELS.name}
        required
        maxLength={100}
      />
      <TextField
        form={form}
        idPrefix={idPrefix}
        name="code"
        label={DISTRICT_LABELS.code}
        hint="Facultatif : code INSEE, IRIS ou QPV, par exemple 490070101"
      />
      <Checkbox form={form} idPrefix={idPrefix} name="qpv" label={DISTRICT_LABELS.qpv} />
    </>
  );
}

function DistrictItem({
  ctx,
  district: d,
  failed,
}: {
  ctx: PageContext;
  district: District;
  failed?: FormState;
}) {
  const prefix = `${districtAnchor(d.id)}-`;
  const form = failed ?? { values: districtFormValues(d), errors: {} };
  return (
    <li class="av-item av-item--stack" id={districtAnchor(d.id)}>
      <p class="fr-text--bold fr-mb-1v">
        {d.name}
        {d.qpv ? (
          <span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--info fr-ml-1w">QPV</span>
        ) : null}
        {d.archivedAt ? (
          <span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning fr-ml-1w">
            Archivé le {formatDate(d.archivedAt)}
          </span>
        ) : null}
      </p>
      <p class="fr-text--xs fr-mb-1v av-muted">Code : {d.code ?? 'non renseigné'}</p>
      <details open={Boolean(failed)}>
        <summary class="fr-text--sm">
          Modifier<span class="fr-sr-only"> : {d.name}</span>
        </summary>
        <form method="post" action={`/admin/quartiers/${d.id}`} novalidate>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="version" value={form.values.version ?? String(d.version)} />
          {failed?.stale ? (
            <StaleAlert title="Ce quartier a été modifié pendant que vous le changiez">
              <p>
                Rien n’a été enregistré. Son état enregistré est affiché juste au-dessus ; ce que
                vous aviez saisi est conservé ci-dessous : vérifiez, puis enregistrez à nouveau si
                c’est toujours juste.
              </p>
            </StaleAlert>
          ) : null}
          <ErrorSummary form={form} labels={DISTRICT_LABELS} idPrefix={prefix} />
          <DistrictFields form={form} idPrefix={prefix} />
          <button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary fr-mt-1w">
            Enregistrer<span class="fr-sr-only"> : {d.name}</span>
          </button>
        </form>
      </details>
      <ArchiveForm
        action={`/admin/quartiers/${d.id}/archive`}
        csrfToken={ctx.csrfToken}
        version={d.version}
        archived={!!d.archivedAt}
        name={d.name}
        class="fr-mt-1w"
      />
    </li>
  );
}

/** The admin page of the districts: add one, rename it, set its code or QPV flag, archive it. */
export function AdminDistrictsPage({
  ctx,
  districts,
  form,
  failed,
}: {
  ctx: PageContext;
  districts: District[];
  /** The form adding a district. */
  form: FormState;
  /** A change that failed, by district id. */
  failed?: DistrictForm;
}) {
  const hasErrors =
    Object.keys(form.errors).length + Object.keys(failed?.form.errors ?? {}).length > 0;
  return (
    <Layout title="Quartiers" hasErrors={hasErrors} ctx={ctx} nav="admin">
      <h1>Quartiers</h1>
      <p>
        Les quartiers de votre structure : ils sont proposés sur la fiche des personnes, et
        l’observation et le tableau de l’équipe comptent par quartier. Un quartier n’est jamais
        supprimé : archivez-le pour ne plus le proposer ; les personnes qui y sont le gardent.
      </p>
      <Section title="Ajouter un quartier" id="ajouter">
        <ErrorSummary form={form} labels={DISTRICT_LABELS} idPrefix="nouveau-" />
        <form method="post" action="/admin/quartiers" novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <DistrictFields form={form} idPrefix="nouveau-" />
          <button type="submit" class="fr-btn fr-mt-2w">
            Ajouter le quartier
          </button>
        </form>
      </Section>
      <Section title={`Quartiers (${districts.length})`} id="quartiers">
        {districts.length === 0 ? (
          <p>Aucun quartier pour l’instant : ajoutez ceux de votre commune ci-dessus.</p>
        ) : (
          <ul class="av-list">
            {districts.map((d) => (
              <DistrictItem
                ctx={ctx}
                district={d}
                failed={failed?.id === d.id ? failed.form : undefined}
              />
            ))}
          </ul>
        )}
      </Section>
    </Layout>
  );
}
