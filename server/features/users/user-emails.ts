import type { OutgoingEmail } from '../../lib/mailer';
import { escapeHtml, frDateTime } from '../../lib/email-text';
import type { PasswordLinkPurpose } from './password-links';

/**
 * The set-password email: an invitation or a new link. It names the user and their structure,
 * never a person followed.
 */
export function passwordLinkEmail(m: {
  purpose: PasswordLinkPurpose;
  to: string;
  userName: string;
  structureName: string;
  url: string;
  expiresAt: Date;
  messageId: string;
}): OutgoingEmail {
  const invite = m.purpose === 'invite';
  const subject = invite
    ? `Votre compte aller-vers (${m.structureName}) : choisissez votre mot de passe`
    : 'aller-vers : choisir un nouveau mot de passe';
  const intro = invite
    ? `Un compte aller-vers vient d'être créé pour vous par ${m.structureName}.`
    : `Un lien pour choisir un nouveau mot de passe a été demandé pour votre compte aller-vers (${m.structureName}).`;
  const call = 'Pour choisir votre mot de passe, ouvrez ce lien personnel :';
  const until = `Ce lien est valable jusqu'au ${frDateTime(m.expiresAt)} et ne sert qu'une fois ; ne le transférez pas.`;
  const ignore = invite
    ? "Si vous n'attendiez pas ce message, ignorez-le."
    : "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.";
  const text = [
    `Bonjour ${m.userName},`,
    '',
    intro,
    '',
    call,
    m.url,
    '',
    until,
    ignore,
    '',
    '— aller-vers',
  ].join('\n');
  const html = `<!DOCTYPE html><html lang="fr"><body>
<p>Bonjour ${escapeHtml(m.userName)},</p>
<p>${escapeHtml(intro)}</p>
<p>${escapeHtml(call)}<br><a href="${escapeHtml(m.url)}">Choisir mon mot de passe</a></p>
<p>${escapeHtml(until)}<br>${escapeHtml(ignore)}</p>
<p>— aller-vers</p>
</body></html>`;
  return { to: m.to, subject, text, html, messageId: m.messageId };
}
