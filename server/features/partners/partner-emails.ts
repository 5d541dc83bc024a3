import type { OutgoingEmail } from '../../lib/mailer';
import { escapeHtml, frDateTime } from '../../lib/email-text';

function email(to: string, subject: string, lines: string[], messageId: string): OutgoingEmail {
  const text = [...lines, '', '— aller-vers'].join('\n');
  const html = `<!DOCTYPE html><html lang="fr"><body>
${lines
  .filter((l) => l !== '')
  .map((l) =>
    /^https?:\/\//.test(l)
      ? `<p><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></p>`
      : `<p>${escapeHtml(l)}</p>`,
  )
  .join('\n')}
<p>— aller-vers</p>
</body></html>`;
  return { to, subject, text, html, messageId };
}

/**
 * To the new address, before anything else is sent there: the link that confirms it. It names
 * the partner and the structure that asked, never a person or a referral.
 */
export function confirmPartnerEmail(m: {
  to: string;
  partnerName: string;
  structureName: string;
  url: string;
  expiresAt: Date;
  messageId: string;
}): OutgoingEmail {
  return email(
    m.to,
    `aller-vers : confirmez l’adresse de ${m.partnerName}`,
    [
      'Bonjour,',
      '',
      `${m.structureName} a indiqué cette adresse pour recevoir les demandes d’orientation adressées à ${m.partnerName} dans aller-vers.`,
      'Rien ne vous sera envoyé tant que vous ne l’aurez pas confirmée en ouvrant ce lien :',
      m.url,
      '',
      `Ce lien est valable jusqu’au ${frDateTime(m.expiresAt)} et ne sert qu’une fois. Si vous n’attendiez pas ce message, ignorez-le : l’adresse actuelle reste utilisée.`,
    ],
    m.messageId,
  );
}

/**
 * To the old address, once the new one confirmed: where its emails go from now on, and that
 * the links it received no longer work.
 */
export function partnerEmailChanged(m: {
  to: string;
  partnerName: string;
  newEmail: string;
  at: Date;
  messageId: string;
}): OutgoingEmail {
  return email(
    m.to,
    `aller-vers : l’adresse de ${m.partnerName} a changé`,
    [
      'Bonjour,',
      '',
      `Depuis le ${frDateTime(m.at)}, les demandes d’orientation adressées à ${m.partnerName} dans aller-vers sont envoyées à ${m.newEmail}, qui l’a confirmé. Cette adresse-ci n’en recevra plus.`,
      'Les liens de réponse envoyés jusqu’ici à cette adresse ne fonctionnent plus : les rappels à venir partent à la nouvelle adresse, avec de nouveaux liens.',
      'Si ce changement n’était pas prévu, prévenez sans attendre le CCAS qui gère ce partenaire.',
    ],
    m.messageId,
  );
}
