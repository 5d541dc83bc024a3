import type { OutgoingEmail } from '../../lib/mailer';
import type { LinkPurpose } from './referral-link-tokens';

export interface PartnerEmailInput {
  to: string;
  partnerName: string;
  structureName: string;
  serviceName: string | null;
  url: string;
  expiresAt: Date;
  messageId: string;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const frDate = (d: Date) =>
  new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(d);

/**
 * The email to a partner names the referring structure, the service and the link, never the
 * person: an inbox is shared and forwarded more than a page behind a signed link.
 */
export function partnerEmail(purpose: LinkPurpose, m: PartnerEmailInput): OutgoingEmail {
  const service = m.serviceName ? ` pour votre service « ${m.serviceName} »` : '';
  const subject =
    purpose === 'respond'
      ? `Nouvelle demande d'orientation de ${m.structureName}`
      : `L'aide a-t-elle pu être apportée ? Demande de ${m.structureName}`;
  const intro =
    purpose === 'respond'
      ? `${m.structureName} vous adresse une demande d'orientation${service}.`
      : `Vous avez accepté une demande d'orientation de ${m.structureName}${service}. Pouvez-vous nous dire si l'aide a pu être apportée ?`;
  const call =
    purpose === 'respond'
      ? 'Pour consulter la demande et y répondre (accepter, ou refuser avec un motif), ouvrez ce lien personnel :'
      : 'Pour indiquer le résultat, ouvrez ce lien personnel :';
  const until = `Ce lien est valable jusqu'au ${frDate(m.expiresAt)} et ne sert qu'une fois ; ne le transférez pas.`;
  const privacy =
    'Par discrétion, ce message ne contient aucune information sur la personne orientée.';
  const text = [
    `Bonjour ${m.partnerName},`,
    '',
    intro,
    '',
    call,
    m.url,
    '',
    until,
    privacy,
    '',
    `— ${m.structureName}, via aller-vers`,
  ].join('\n');
  const html = `<!DOCTYPE html><html lang="fr"><body>
<p>Bonjour ${escapeHtml(m.partnerName)},</p>
<p>${escapeHtml(intro)}</p>
<p>${escapeHtml(call)}<br><a href="${escapeHtml(m.url)}">${escapeHtml(
    purpose === 'respond' ? 'Répondre à la demande' : 'Indiquer le résultat',
  )}</a></p>
<p>${escapeHtml(until)}<br>${escapeHtml(privacy)}</p>
<p>— ${escapeHtml(m.structureName)}, via aller-vers</p>
</body></html>`;
  return { to: m.to, subject, text, html, messageId: m.messageId };
}
