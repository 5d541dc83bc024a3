import type { OutgoingEmail } from '../../lib/mailer';
import type { DigestCounts } from './digest-repository';
import { escapeHtml } from '../../lib/email-text';

const plural = (n: number, one: string, many: string) => `${n} ${n > 1 ? many : one}`;

/** The lines of a digest: counts only, never a person (an inbox is read and forwarded widely). */
export function digestLines(c: DigestCounts, partner: boolean): string[] {
  const lines: string[] = [];
  if (c.dueToday) lines.push(`${plural(c.dueToday, 'suivi', 'suivis')} à faire aujourd’hui`);
  if (c.overdue) lines.push(`${plural(c.overdue, 'suivi', 'suivis')} en retard`);
  if (c.referrals)
    lines.push(
      partner
        ? `${plural(c.referrals, 'demande', 'demandes')} d’orientation en attente de votre réponse`
        : `${plural(c.referrals, 'orientation', 'orientations')} sans réponse du partenaire dans le délai`,
    );
  if (c.escalations)
    lines.push(
      c.escalations > 1
        ? `${c.escalations} suivis de votre équipe en retard qui vous ont été signalés`
        : '1 suivi de votre équipe en retard qui vous a été signalé',
    );
  if (c.reports)
    lines.push(
      `${plural(c.reports, 'signalement', 'signalements')} en attente de tri au-delà du délai`,
    );
  return lines;
}

export const isEmpty = (c: DigestCounts) =>
  c.dueToday + c.overdue + c.referrals + c.escalations + c.reports === 0;

/**
 * Where a digest leads (in the app and by email): the page of its first line. A partner's inbox;
 * the user's own follow-ups at /mes-actions, for workers and managers alike (a manager's `/` is
 * the team's backlog); the referrals they sent still waiting an answer; a manager's backlog for
 * escalated follow-ups; the triage queue for reports.
 */
export function digestLink(c: DigestCounts, partner: boolean): string {
  if (partner) return '/orientations';
  if (c.dueToday || c.overdue) return '/mes-actions';
  if (c.referrals) return '/orientations?mine=true&status=requested';
  if (c.escalations) return '/';
  return '/signalements';
}

/**
 * The digest by email: the same lines as in the app, and links to the page behind them (the
 * in-app digest's own link, `digestLink`) and to the account page.
 */
export function digestEmail(m: {
  to: string;
  title: string;
  lines: string[];
  publicUrl: string;
  /** The in-app digest's link: a path of the app. */
  link: string;
  messageId: string;
}): OutgoingEmail {
  const open = `${m.publicUrl}${m.link}`;
  const prefs = `${m.publicUrl}/mon-compte`;
  const privacy = 'Par discrétion, ce message ne nomme aucune personne suivie.';
  const text = [
    'Bonjour,',
    '',
    `${m.title} :`,
    ...m.lines.map((l) => `- ${l}`),
    '',
    `Pour les voir : ${open}`,
    '',
    privacy,
    `Pour ne plus recevoir ce message par courriel : ${prefs}`,
  ].join('\n');
  const html = `<!doctype html><html lang="fr"><body>
<p>Bonjour,</p>
<p>${escapeHtml(m.title)} :</p>
<ul>${m.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<p><a href="${escapeHtml(open)}">Les voir dans aller-vers</a></p>
<p>${escapeHtml(privacy)}</p>
<p><a href="${escapeHtml(prefs)}">Ne plus recevoir ce message par courriel</a></p>
</body></html>`;
  return {
    to: m.to,
    subject: `aller-vers : ${m.title.toLowerCase()}`,
    text,
    html,
    messageId: m.messageId,
  };
}
