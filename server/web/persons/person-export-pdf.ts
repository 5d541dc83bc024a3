import type { PersonExport } from '../../features/exports/person-export-service';
import {
  REJECTION_REASON_LABELS,
  STATUS_LABELS as REFERRAL_STATUS_LABELS,
} from '../../features/referrals/referral-state';
import { pdfText, renderPdf, type PdfDocument } from '../../lib/pdf';
import {
  CHANNEL_LABELS,
  FOLLOW_UP_ENDED_LABELS,
  FOLLOW_UP_STATUS_LABELS,
  formatDate,
  formatDateTime,
  OUTCOME_LABELS,
  personLabel,
  SOURCE_LABELS,
  STATUS_LABELS,
} from '../format';
import { REASON_LABELS, RIGHT_STATUS_LABELS } from '../rights/right-labels';
import { auditActionLabel, auditActorLabel } from './audit-labels';
import { CLOSED_REASON_LABELS, GENDER_LABELS, HOUSEHOLD_LABELS } from './person-labels';

const label = (labels: Record<string, string>, code: string | null) =>
  code ? (labels[code] ?? code) : null;
const euros = (cents: number | null) =>
  cents === null
    ? null
    : new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }).format(cents / 100);

const PURPOSE_LABELS: Record<string, string> = {
  referral: 'Orientation vers un partenaire',
  sms_contact: 'Contact par SMS',
  email_contact: 'Contact par courriel',
};
const METHOD_LABELS: Record<string, string> = { oral: 'Oral', written: 'Écrit' };

/**
 * The right-of-access export as a printable PDF in French, to hand over to the person: every
 * section of the JSON export, codes in words, dates in Paris time.
 */
export function personExportPdf(e: PersonExport): Promise<Buffer> {
  const name = personLabel(e.person);
  return renderPdf(
    { title: `Données détenues sur ${name}`, author: e.structure.name },
    (doc: PdfDocument) => {
      const t = pdfText;
      const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
      const heading = (s: string) => {
        doc.moveDown(1).font('Helvetica-Bold').fontSize(13).text(t(s), { width });
        doc.font('Helvetica').fontSize(10).moveDown(0.3);
      };
      const row = (k: string, v: string | number | null | undefined) => {
        if (v === null || v === undefined || v === '') return;
        doc.font('Helvetica-Bold').text(t(`${k} : `), { continued: true, width });
        doc.font('Helvetica').text(t(String(v)), { width });
      };
      const item = (s: string) => {
        doc.moveDown(0.4).font('Helvetica-Bold').text(t(s), { width }).font('Helvetica');
      };
      const none = (list: unknown[], s: string) => {
        if (list.length === 0) doc.text(t(s), { width });
      };

      doc
        .font('Helvetica-Bold')
        .fontSize(16)
        .text(t(`Données détenues sur ${name}`), { width });
      doc.font('Helvetica').fontSize(10).moveDown(0.5);
      doc.text(
        t(
          `${e.structure.name} — document établi le ${formatDateTime(e.generatedAt)} au titre du droit d’accès (article 15 du RGPD). Il contient toutes les informations enregistrées à votre sujet, y compris les notes des professionnels, et la liste des personnes qui ont consulté ou modifié votre dossier.`,
        ),
        { width },
      );

      const p = e.person;
      heading('Votre fiche');
      row('Surnom ou description', p.alias);
      row('Prénom', p.firstName);
      row('Nom', p.lastName);
      row('Année de naissance', p.birthYear);
      row('Genre', label(GENDER_LABELS, p.gender));
      row('Téléphone', p.phone);
      row('Courriel', p.email);
      row('Adresse', p.address);
      row('Lieu de rencontre', p.place);
      row('Quartier', p.districtName);
      row('Composition du foyer', label(HOUSEHOLD_LABELS, p.householdType));
      row('Comment la structure vous a connu·e', label(SOURCE_LABELS, p.source));
      row('Référent', p.referentName);
      row('Situation', p.situation);
      row('Statut du parcours', label(STATUS_LABELS, p.status));
      row('Fiche clôturée le', p.closedAt ? formatDate(p.closedAt) : null);
      row('Motif de clôture', label(CLOSED_REASON_LABELS, p.closedReason));
      row('Fiche anonymisée le', p.anonymisedAt ? formatDate(p.anonymisedAt) : null);
      row('Fiche créée le', formatDateTime(p.createdAt));
      row('Dernière activité le', formatDateTime(p.lastActivityAt));

      heading('Contacts');
      none(e.contacts, 'Aucun contact enregistré.');
      for (const c of e.contacts) {
        item(
          `${formatDateTime(c.occurredAt)} — ${label(CHANNEL_LABELS, c.channel)}, ${label(OUTCOME_LABELS, c.outcome)}`,
        );
        row('Par', c.author);
        row('Compte rendu', c.summary);
        row('Note privée du professionnel', c.privateNote);
      }

      heading('Suivis');
      none(e.followUps, 'Aucun suivi enregistré.');
      for (const f of e.followUps) {
        item(`${f.title} — prévu le ${formatDateTime(f.dueAt)}`);
        row('Statut', label(FOLLOW_UP_STATUS_LABELS, f.status));
        row('Confié à', f.assignee);
        row(
          FOLLOW_UP_ENDED_LABELS[f.status] ?? 'Terminé le',
          f.completedAt ? formatDateTime(f.completedAt) : null,
        );
        row('Note de fin', f.completionNote);
      }

      heading('Droits et aides');
      none(e.rights, 'Aucun droit suivi.');
      for (const r of e.rights) {
        item(`${r.label} — ${label(RIGHT_STATUS_LABELS, r.status)}`);
        row('Raison du non-recours', label(REASON_LABELS, r.reason));
        row('Montant mensuel', euros(r.monthlyAmountCents));
        row('Note', r.note);
        for (const h of r.history)
          doc.text(
            t(
              `· ${formatDateTime(h.at)} : ${label(RIGHT_STATUS_LABELS, h.status)}${h.reason ? ` (${label(REASON_LABELS, h.reason)})` : ''}${h.monthlyAmountCents !== null ? `, ${euros(h.monthlyAmountCents)} par mois` : ''}${h.actor ? `, par ${h.actor}` : ''}${h.note ? ` — ${h.note}` : ''}`,
            ),
            { width },
          );
      }

      heading('Consentements');
      none(e.consents, 'Aucun consentement enregistré.');
      for (const c of e.consents) {
        item(`${label(PURPOSE_LABELS, c.purpose)}${c.partner ? ` : ${c.partner}` : ''}`);
        row('Recueilli', `${label(METHOD_LABELS, c.method)}, le ${formatDate(c.givenAt)}`);
        row('Valable jusqu’au', c.expiresAt ? formatDate(c.expiresAt) : null);
        row('Retiré le', c.revokedAt ? formatDate(c.revokedAt) : null);
      }

      heading('Orientations vers des partenaires');
      none(e.referrals, 'Aucune orientation.');
      for (const r of e.referrals) {
        item(
          `${r.partner}${r.service ? ` — ${r.service}` : ''} : ${label(REFERRAL_STATUS_LABELS, r.status)}`,
        );
        row('Demandée le', formatDateTime(r.createdAt));
        row('Par', r.requester);
        row('Droit visé', r.right);
        row('Motif', r.reason);
        row('Résumé transmis au partenaire', r.sharedSummary);
        row('Résultat', r.outcome);
        row('Raison', label(REJECTION_REASON_LABELS, r.statusReasonCode));
        for (const ev of r.events)
          doc.text(
            t(
              `· ${formatDateTime(ev.at)} : ${label(REFERRAL_STATUS_LABELS, ev.toStatus)}${ev.actor ? `, par ${ev.actor}` : ''}${ev.note ? ` — ${ev.note}` : ''}`,
            ),
            { width },
          );
      }

      heading('Signalements');
      none(e.reports, 'Aucun signalement.');
      for (const r of e.reports) {
        item(`Signalement n° ${r.receiptNumber} du ${formatDateTime(r.createdAt)}`);
        row('Lieu', r.location);
        row('Personne décrite', r.who);
        row('Inquiétude', r.concern);
        row('Traité le', r.triagedAt ? formatDateTime(r.triagedAt) : null);
      }

      heading('Qui a consulté ou modifié votre dossier');
      doc.text(t('Les traces sont conservées 12 mois. Les plus récentes en premier.'), { width });
      none(e.accessLog, 'Aucune trace.');
      for (const a of e.accessLog)
        doc.text(
          t(
            `· ${formatDateTime(a.at)} — ${auditActionLabel(a.action)} — ${auditActorLabel(a.actor)}`,
          ),
          { width },
        );

      // Page numbers, once every page is laid out.
      const range = doc.bufferedPageRange();
      for (let i = range.start; i < range.start + range.count; i++) {
        doc.switchToPage(i);
        const bottom = doc.page.margins.bottom;
        doc.page.margins.bottom = 0;
        doc
          .fontSize(8)
          .text(
            t(`Page ${i + 1} sur ${range.count}`),
            doc.page.margins.left,
            doc.page.height - 40,
            {
              width,
              align: 'center',
            },
          );
        doc.page.margins.bottom = bottom;
      }
    },
  );
}
