import { stringify } from 'csv-stringify/sync';
import type { Observation } from './observation-service';
import type { MainValues, PartnerValues, Published } from './observation-table';

/** Column heads in French, as a spreadsheet user reads them. */
const GROUP_HEADS: Record<string, string> = {
  district: 'Quartier',
  right: 'Droit ou aide',
  source: 'Repérage',
  team: 'Équipe',
};

/** The main table's columns in French, in order: the CSV and the dashboard's detailed table. */
export const MAIN_HEADS: [keyof MainValues, string][] = [
  ['identified', 'Personnes repérées'],
  ['reached', 'Personnes jointes pour la première fois'],
  ['notClaimed', 'Droits non demandés'],
  ['nonKnowledge', 'dont non-connaissance'],
  ['nonRequest', 'dont non-demande'],
  ['nonReceipt', 'dont non-réception'],
  ['nonProposal', 'dont non-proposition'],
  ['claimInProgress', 'Demandes en cours'],
  ['obtained', 'Droits obtenus'],
  ['refused', 'Droits refusés'],
  ['abandoned', 'Droits abandonnés'],
  ['medianDaysToFirstContact', 'Délai médian jusqu’au premier contact (jours)'],
  ['yearlyAmountObtained', 'Montant annuel des droits obtenus (euros)'],
];

const PARTNER_HEADS: [keyof PartnerValues, string][] = [
  ['sent', 'Orientations envoyées'],
  ['accepted', 'Acceptées'],
  ['declined', 'Refusées ou expirées'],
  ['waiting', 'En attente de réponse'],
  ['withdrawn', 'Annulées avant réponse'],
  ['acceptanceRate', 'Taux d’acceptation (%)'],
  ['medianResponseBusinessDays', 'Délai médian de réponse (jours ouvrés)'],
];

/** What a withheld median, amount or rate reads as. */
const WITHHELD = 'non diffusé';

/** A number as French spreadsheets read it (decimal comma); a suppressed count as published. */
function cell(v: Published | null | boolean | undefined, percent = false): string {
  if (v === null || v === undefined) return WITHHELD;
  if (typeof v === 'boolean') return v ? 'oui' : 'non';
  if (typeof v === 'string') return v;
  return String(percent ? Math.round(v * 100) : v).replace('.', ',');
}

/**
 * The observation as CSV for French spreadsheets: semicolons, a BOM so that Excel reads UTF-8,
 * the same suppressed values as the API, and every cell that a spreadsheet would take for a
 * formula (starting with = + - @, a tab or a carriage return) prefixed with a quote.
 */
export function observationCsv(o: Observation): string {
  const records: string[][] = [];
  const groupHead = o.by ? GROUP_HEADS[o.by] : 'Ensemble';
  const withQpv = o.by === 'district';
  records.push([groupHead, ...(withQpv ? ['QPV'] : []), ...MAIN_HEADS.map(([, head]) => head)]);
  const mainLine = (label: string, v: MainValues, qpv?: boolean) => [
    label,
    ...(withQpv ? [qpv === undefined ? '' : cell(qpv)] : []),
    ...MAIN_HEADS.map(([k]) => cell(v[k])),
  ];
  records.push(mainLine('Total', o.totals));
  for (const row of o.rows) records.push(mainLine(row.label, row, row.qpv));
  records.push([]);
  records.push(['Partenaire', ...PARTNER_HEADS.map(([, head]) => head)]);
  const partnerLine = (label: string, v: PartnerValues) => [
    label,
    ...PARTNER_HEADS.map(([k]) => cell(v[k], k === 'acceptanceRate')),
  ];
  records.push(partnerLine('Total', o.partners.totals));
  for (const row of o.partners.rows) records.push(partnerLine(row.label, row));
  records.push([]);
  records.push([`Période du ${o.from} au ${o.to}`]);
  records.push([
    `« < ${o.threshold} » : moins de ${o.threshold}, ou masqué pour qu’un petit effectif ne puisse pas être recalculé ; « ${WITHHELD} » : trop peu de personnes concernées.`,
  ]);
  return stringify(records, {
    bom: true,
    delimiter: ';',
    record_delimiter: '\r\n',
    escape_formulas: true,
    // A lone carriage return or line feed in a label would end the line in a spreadsheet.
    quoted_match: /[\r\n]/,
  });
}
