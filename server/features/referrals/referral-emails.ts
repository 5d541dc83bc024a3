import type { OutgoingEmail } from '../../lib/mailer';
import type { LinkPurpose } from './referral-link-tokens';
import { escapeHtml, frDateTime } from '../../lib/email-text';

interface PartnerEmailInput {
  to: string;
  partnerName: string;
  structureName: string;
  serviceName: string | null;
  url: string;
  expiresAt: Date;
  messageId: string;
}

/** Which email: the first request, a reminder of it (same respond link purpose), or the outcome question. */
export type PartnerEmailKind = 'respond' | 'remind' | 'outcome';

/** The purpose of the signed link each email carries. */
export const LINK_PURPOSE_OF: Record<PartnerEmailKind, LinkPurpose> = {
  respond: 'respond',
  remind: 'respond',
  outcome: 'outcome',
};

const WORDING: Record<
  PartnerEmailKind,
  {
    subject: (structure: string) => string;
    intro: (structure: string, service: string) => string;
    call: string;
    button: string;
  }
> = {
  respond: {
    subject: (st) => `Nouvelle demande d'orientation de ${st}`,
    intro: (st, sv) => `${st} vous adresse une demande d'orientation${sv}.`,
    call: 'Pour consulter la demande et y répondre (accepter, ou refuser avec un motif), ouvrez ce lien personnel :',
    button: 'Répondre à la demande',
  },
  remind: {
    subject: (st) => `Rappel : demande d'orientation de ${st} en attente de votre réponse`,
    intro: (st, sv) =>
      `${st} vous a adressé une demande d'orientation${sv}, qui attend toujours votre réponse.`,
    call: 'Pour consulter la demande et y répondre (accepter, ou refuser avec un motif), ouvrez ce lien personnel :',
    button: 'Répondre à la demande',
  },
  outcome: {
    subject: (st) => `L'aide a-t-elle pu être apportée ? Demande de ${st}`,
    intro: (st, sv) =>
      `Vous avez accepté une demande d'orientation de ${st}${sv}. Pouvez-vous nous dire si l'aide a pu être apportée ?`,
    call: 'Pour indiquer le résultat, ouvrez ce lien personnel :',
    button: 'Indiquer le résultat',
  },
};

/** Every email to a partner says it carries nothing about the person. */
const PRIVACY =
  'Par discrétion, ce message ne contient aucune information sur la personne orientée.';

/** The service a referral was addressed to, as the partner's emails name it. */
const forYourService = (serviceName: string | null) =>
  serviceName ? ` pour votre service « ${serviceName} »` : '';

/**
 * The email to a partner names the referring structure, the service and the link, never the
 * person: an inbox is shared and forwarded more than a page behind a signed link.
 */
export function partnerEmail(kind: PartnerEmailKind, m: PartnerEmailInput): OutgoingEmail {
  const wording = WORDING[kind];
  const service = forYourService(m.serviceName);
  const subject = wording.subject(m.structureName);
  const intro = wording.intro(m.structureName, service);
  const call = wording.call;
  const until = `Ce lien est valable jusqu'au ${frDateTime(m.expiresAt)} et ne sert qu'une fois ; ne le transférez pas.`;
  const text = [
    `Bonjour ${m.partnerName},`,
    '',
    intro,
    '',
    call,
    m.url,
    '',
    until,
    PRIVACY,
    '',
    `— ${m.structureName}, via aller-vers`,
  ].join('\n');
  const html = `<!DOCTYPE html><html lang="fr"><body>
<p>Bonjour ${escapeHtml(m.partnerName)},</p>
<p>${escapeHtml(intro)}</p>
<p>${escapeHtml(call)}<br><a href="${escapeHtml(m.url)}">${escapeHtml(wording.button)}</a></p>
<p>${escapeHtml(until)}<br>${escapeHtml(PRIVACY)}</p>
<p>— ${escapeHtml(m.structureName)}, via aller-vers</p>
</body></html>`;
  return { to: m.to, subject, text, html, messageId: m.messageId };
}

/** Which referral a partner is told was withdrawn: never the person. */
export interface WithdrawnReferral {
  structureName: string;
  serviceName: string | null;
  requestedAt: Date;
}

/**
 * The sentence telling a partner which referral was withdrawn, in its email and its in-app
 * notice: the structure, the service and the day it was asked, never the person (nor why: a
 * consent withdrawn is the person's business).
 */
export function withdrawnReferralSentence(m: WithdrawnReferral): string {
  const service = forYourService(m.serviceName);
  return `${m.structureName} a retiré la demande d'orientation${service} qu'elle vous avait adressée le ${frDateTime(m.requestedAt)}.`;
}

/** The email telling a partner a referral was withdrawn. */
export function partnerWithdrawnEmail(
  m: WithdrawnReferral & { to: string; partnerName: string; messageId: string },
): OutgoingEmail {
  const subject = `Demande d'orientation de ${m.structureName} retirée`;
  const intro = withdrawnReferralSentence(m);
  const stop =
    'Les informations transmises sur la personne pour cette demande ne doivent plus être utilisées : ne la contactez plus à ce titre. Les liens reçus pour cette demande ne fonctionnent plus.';
  const text = [
    `Bonjour ${m.partnerName},`,
    '',
    intro,
    '',
    stop,
    '',
    PRIVACY,
    '',
    `— ${m.structureName}, via aller-vers`,
  ].join('\n');
  const html = `<!DOCTYPE html><html lang="fr"><body>
<p>Bonjour ${escapeHtml(m.partnerName)},</p>
<p>${escapeHtml(intro)}</p>
<p>${escapeHtml(stop)}</p>
<p>${escapeHtml(PRIVACY)}</p>
<p>— ${escapeHtml(m.structureName)}, via aller-vers</p>
</body></html>`;
  return { to: m.to, subject, text, html, messageId: m.messageId };
}
