import type { ComponentChildren } from 'preact';
import {
  OBSERVATION_GROUPINGS,
  type MainColumn,
  type ObservationGrouping,
} from '../../features/observation/observation-schemas';
import { MAIN_HEADS } from '../../features/observation/observation-csv';
import type { Observation } from '../../features/observation/observation-service';
import type { MainValues } from '../../features/observation/observation-table';
import { formatDate, formatDateTime } from '../format';
import { ErrorSummary, SelectField, TextField, type FormState } from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { BarChart, type ChartCategory } from './bar-chart';

export const GROUPING_LABELS: Record<ObservationGrouping, string> = {
  district: 'Quartier',
  right: 'Droit ou aide',
  source: 'Repérage',
  team: 'Équipe',
};

const STATUSES: [MainColumn, string][] = [
  ['notClaimed', 'Non demandés'],
  ['claimInProgress', 'Demande en cours'],
  ['obtained', 'Obtenus'],
  ['refused', 'Refusés'],
  ['abandoned', 'Abandonnés'],
];

const REASONS: [MainColumn, string][] = [
  ['nonKnowledge', 'Non-connaissance'],
  ['nonRequest', 'Non-demande'],
  ['nonReceipt', 'Non-réception'],
  ['nonProposal', 'Non-proposition'],
];

const WITHHELD = 'non diffusé';
const fmt = new Intl.NumberFormat('fr-FR');

/** A published value as the page writes it. */
export const shown = (v: number | string | null | undefined, unit = ''): string =>
  v === null || v === undefined ? WITHHELD : typeof v === 'number' ? `${fmt.format(v)}${unit}` : v;
const chartValue = (v: number | string | null): number | string => (v === null ? WITHHELD : v);

export interface ObservationForm {
  from: string;
  to: string;
  by: string;
}

/** The period picker's labels, which its error summary's links repeat. */
const PERIOD_LABELS: Record<keyof ObservationForm, string> = {
  from: 'Du',
  to: 'Au (inclus)',
  by: 'Regrouper par',
};

/*
 * Tables may be wider than a phone (the DSFR lets them scroll sideways): each is focusable, so
 * that the keyboard can scroll it too.
 */

/** A chart and the table of its numbers, under one heading. */
function Figure({
  id,
  title,
  children,
  table,
}: {
  id: string;
  title: string;
  children: ComponentChildren;
  table: ComponentChildren;
}) {
  return (
    <section class="fr-mb-6w" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} class="fr-h4">
        {title}
      </h2>
      <figure class="av-figure">{children}</figure>
      <div class="fr-table fr-table--bordered fr-mt-2w">{table}</div>
    </section>
  );
}

function SimpleTable({
  caption,
  head,
  columns,
  rows,
}: {
  caption: string;
  head: string;
  columns: string[];
  rows: { label: string; values: string[] }[];
}) {
  return (
    <table tabIndex={0}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{head}</th>
          {columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <th scope="row">{r.label}</th>
            {r.values.map((v) => (
              <td class="av-num">{v}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The query string of this answer, for the CSV link. */
export function observationQueryString(o: Pick<Observation, 'from' | 'to' | 'by'>): string {
  const q = new URLSearchParams({ from: o.from, to: o.to });
  if (o.by) q.set('by', o.by);
  return q.toString();
}

/**
 * The observation dashboard (managers and observers; the observer's home): a period picker,
 * the CSV, then each indicator as a chart with its table. It reads the same answer as the API.
 */
export function ObservationPage({
  ctx,
  action,
  form,
  observation,
  errors = {},
  nav,
}: {
  ctx: PageContext;
  /** Where the period picker sends its GET (the page's own path). */
  action: string;
  form: ObservationForm;
  observation: Observation | null;
  /** French messages for a period or grouping that could not be read, by field. */
  errors?: Record<string, string>;
  nav: 'home' | 'observation';
}) {
  const picker: FormState = { values: { ...form }, errors };
  const hasErrors = Object.keys(errors).length > 0;
  const o = observation;
  const by = o?.by ?? null;
  const rowsOrTotal = (pick: (v: MainValues) => (number | string | null)[]): ChartCategory[] =>
    o
      ? by
        ? o.rows.map((r) => ({ label: r.label, values: pick(r).map(chartValue) }))
        : [{ label: 'Ensemble de la structure', values: pick(o.totals).map(chartValue) }]
      : [];
  const head = by ? GROUPING_LABELS[by] : 'Ensemble';
  return (
    <Layout title="Observation sociale" hasErrors={hasErrors} ctx={ctx} nav={nav}>
      <h1>Observation sociale</h1>
      {o ? (
        <p class="fr-text--lead">
          Du {formatDate(`${o.from}T12:00:00Z`)} au {formatDate(`${o.to}T12:00:00Z`)}
          {by ? `, par ${GROUPING_LABELS[by].toLowerCase()}` : ''}.
        </p>
      ) : null}
      {o ? (
        <p class="fr-text--sm av-freshness">
          Chiffres calculés le {formatDateTime(o.computedAt)} : ils sont recalculés chaque heure,
          les saisies plus récentes n’y figurent pas encore.
        </p>
      ) : null}
      <ErrorSummary form={picker} labels={PERIOD_LABELS} />
      <form method="get" action={action} class="av-period fr-mb-3w">
        <TextField form={picker} name="from" label={PERIOD_LABELS.from} type="date" />
        <TextField form={picker} name="to" label={PERIOD_LABELS.to} type="date" />
        <SelectField
          form={picker}
          name="by"
          label={PERIOD_LABELS.by}
          placeholder="Sans regroupement"
          options={Object.fromEntries(OBSERVATION_GROUPINGS.map((g) => [g, GROUPING_LABELS[g]]))}
        />
        <button type="submit" class="fr-btn">
          Afficher
        </button>
      </form>
      <p class="fr-text--sm">
        Sans date choisie, la période est celle des douze derniers mois : une année entière de
        données, quel que soit le jour.
      </p>
      {o ? (
        <>
          <div class="fr-callout fr-mb-4w">
            <p class="fr-callout__text">
              « &lt; {o.threshold} » : moins de {o.threshold} personnes ou droits, ou valeur masquée
              pour qu’un petit effectif ne puisse pas être recalculé à partir des autres.{' '}
              {`« ${WITHHELD} »`} : trop peu de personnes derrière un délai ou un montant, ou
              effectif dont il dépend masqué. Aucune donnée individuelle n’est affichée.
            </p>
            <a
              class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left"
              href={`/api/observation.csv?${observationQueryString(o)}`}
              download
            >
              Télécharger le tableau (CSV)
            </a>
          </div>

          <Figure
            id="personnes"
            title="Personnes repérées et jointes"
            table={
              <SimpleTable
                caption="Personnes repérées (dossier ouvert) et jointes pour la première fois dans la période"
                head={head}
                columns={[
                  'Personnes repérées',
                  'Personnes jointes',
                  'Délai médian jusqu’au premier contact (jours)',
                ]}
                rows={(by ? o.rows : [{ ...o.totals, label: 'Ensemble' }]).map((r) => ({
                  label: r.label,
                  values: [
                    shown(r.identified),
                    shown(r.reached),
                    shown(r.medianDaysToFirstContact),
                  ],
                }))}
              />
            }
          >
            <BarChart
              id="chart-personnes"
              title="Personnes repérées et jointes pour la première fois"
              series={[{ name: 'Repérées' }, { name: 'Jointes' }]}
              categories={rowsOrTotal((v) => [v.identified, v.reached])}
            />
          </Figure>

          <Figure
            id="droits"
            title="Droits suivis, par statut à la fin de la période"
            table={
              <SimpleTable
                caption="Droits enregistrés ou modifiés dans la période, par statut"
                head="Statut"
                columns={['Droits']}
                rows={STATUSES.map(([k, label]) => ({ label, values: [shown(o.totals[k])] }))}
              />
            }
          >
            <BarChart
              id="chart-droits"
              title="Droits par statut"
              series={[{ name: 'Droits' }]}
              categories={STATUSES.map(([k, label]) => ({ label, values: [o.totals[k]] }))}
            />
          </Figure>

          <Figure
            id="motifs"
            title="Motifs de non-recours (Odenore)"
            table={
              <SimpleTable
                caption="Droits non demandés, par motif de non-recours"
                head="Motif"
                columns={['Droits non demandés']}
                rows={REASONS.map(([k, label]) => ({ label, values: [shown(o.totals[k])] }))}
              />
            }
          >
            <BarChart
              id="chart-motifs"
              title="Droits non demandés par motif"
              series={[{ name: 'Droits non demandés' }]}
              categories={REASONS.map(([k, label]) => ({ label, values: [o.totals[k]] }))}
            />
          </Figure>

          <Figure
            id="montants"
            title="Ce que l’aller-vers a ouvert : montant annuel des droits obtenus"
            table={
              <SimpleTable
                caption="Montant annuel des droits obtenus (montants mensuels × 12)"
                head={head}
                columns={['Droits obtenus', 'Montant annuel']}
                rows={(by ? o.rows : [{ ...o.totals, label: 'Ensemble' }]).map((r) => ({
                  label: r.label,
                  values: [shown(r.obtained), shown(r.yearlyAmountObtained, ' €')],
                }))}
              />
            }
          >
            <BarChart
              id="chart-montants"
              title="Montant annuel des droits obtenus, en euros"
              series={[{ name: 'Montant annuel' }]}
              unit=" €"
              categories={rowsOrTotal((v) => [v.yearlyAmountObtained])}
            />
          </Figure>

          <Figure
            id="orientations"
            title="Orientations vers les partenaires"
            table={
              <SimpleTable
                caption="Orientations envoyées dans la période, par partenaire et par suite donnée"
                head="Partenaire"
                columns={[
                  'Envoyées',
                  'Acceptées',
                  'Refusées ou expirées',
                  'En attente',
                  'Annulées avant réponse',
                  'Taux d’acceptation',
                  'Délai médian de réponse (jours ouvrés)',
                ]}
                rows={[...o.partners.rows, { ...o.partners.totals, label: 'Total' }].map((r) => ({
                  label: r.label,
                  values: [
                    shown(r.sent),
                    shown(r.accepted),
                    shown(r.declined),
                    shown(r.waiting),
                    shown(r.withdrawn),
                    r.acceptanceRate === null
                      ? WITHHELD
                      : `${Math.round(r.acceptanceRate * 100)} %`,
                    shown(r.medianResponseBusinessDays),
                  ],
                }))}
              />
            }
          >
            <BarChart
              id="chart-orientations"
              title="Orientations envoyées et acceptées, par partenaire"
              series={[{ name: 'Envoyées' }, { name: 'Acceptées' }]}
              categories={o.partners.rows.map((r) => ({
                label: r.label,
                values: [r.sent, r.accepted],
              }))}
            />
          </Figure>

          {by ? (
            <section class="fr-mb-6w" aria-labelledby="detail-h">
              <h2 id="detail-h" class="fr-h4">
                Détail par {GROUPING_LABELS[by].toLowerCase()}
              </h2>
              <div class="fr-table fr-table--bordered">
                <table tabIndex={0}>
                  <caption>Tous les indicateurs par {GROUPING_LABELS[by].toLowerCase()}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{head}</th>
                      {by === 'district' ? <th scope="col">QPV</th> : null}
                      {MAIN_HEADS.map(([, label]) => (
                        <th scope="col">{label}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {o.rows.map((r) => (
                      <tr>
                        <th scope="row">{r.label}</th>
                        {by === 'district' ? (
                          <td>{r.qpv === undefined ? '' : r.qpv ? 'oui' : 'non'}</td>
                        ) : null}
                        {MAIN_HEADS.map(([k]) => (
                          <td class="av-num">
                            {shown(r[k], k === 'yearlyAmountObtained' ? ' €' : '')}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">Total</th>
                      {by === 'district' ? <td></td> : null}
                      {MAIN_HEADS.map(([k]) => (
                        <td class="av-num">
                          {shown(o.totals[k], k === 'yearlyAmountObtained' ? ' €' : '')}
                        </td>
                      ))}
                    </tr>
                  </tfoot>
                </table>
              </div>
            </section>
          ) : null}
        </>
      ) : null}
    </Layout>
  );
}
