import type { Channel, Outcome } from '../features/contacts/contact-schemas';
import type { PathStatus } from '../features/persons/person-schemas';
import { instantOf, TIME_ZONE, wallClockOf } from '../lib/wall-clock';

/** French labels for the API's enum codes; the codes never reach the screen. */
export const CHANNEL_LABELS: Record<Channel, string> = {
  street: 'Rue',
  home_visit: 'Visite à domicile',
  phone: 'Téléphone',
  office: 'Accueil',
  mail: 'Courrier',
  email: 'Courriel',
  sms: 'SMS',
  partner_meeting: 'Rencontre partenaire',
  video: 'Visio',
};

export const OUTCOME_LABELS: Record<Outcome, string> = {
  reached: 'Joint(e)',
  not_reached: 'Non joint(e)',
  refused: 'Refus',
  appointment_set: 'Rendez-vous fixé',
};

export const STATUS_LABELS: Record<PathStatus, string> = {
  identified: 'Repéré·e',
  in_contact: 'En contact',
  supported: 'Accompagné·e',
  resolved: 'Situation réglée',
  closed: 'Clôturé',
};

/** DSFR badge colour per status, so the status reads at a glance. */
export const STATUS_BADGES: Record<PathStatus, string> = {
  identified: 'fr-badge--new',
  in_contact: 'fr-badge--info',
  supported: 'fr-badge--success',
  resolved: 'fr-badge--success',
  closed: 'fr-badge--no-icon',
};

/** Where the API's own French labels exist (the observation CSV uses them), pages take them. */
export { SOURCE_LABELS } from '../features/persons/person-schemas';

export const FOLLOW_UP_STATUS_LABELS: Record<string, string> = {
  open: 'À faire',
  done: 'Fait',
  cancelled: 'Annulé',
};

/**
 * How a follow-up's end (`completedAt`, set when it is done or cancelled) is introduced: a
 * cancelled one was never done.
 */
export const FOLLOW_UP_ENDED_LABELS: Record<string, string> = {
  done: 'Fait le',
  cancelled: 'Annulé le',
};

const dateTimeFmt = new Intl.DateTimeFormat('fr-FR', {
  timeZone: TIME_ZONE,
  dateStyle: 'long',
  timeStyle: 'short',
});
const dateFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TIME_ZONE, dateStyle: 'full' });

export const formatDateTime = (d: Date | string) => dateTimeFmt.format(new Date(d));
export const formatDate = (d: Date | string) => dateFmt.format(new Date(d));

/** The value a `datetime-local` input shows for this instant in Paris: YYYY-MM-DDTHH:mm. */
export function toParisLocalInput(d: Date | string): string {
  const p = wallClockOf(new Date(d));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** A time of day "HH:MM" as French writes it: "8 h 30", "9 h". */
export function formatTimeOfDay(hhmm: string): string {
  const [hours, minutes] = hhmm.split(':');
  return minutes === '00' ? `${Number(hours)} h` : `${Number(hours)} h ${minutes}`;
}

export { parisDay } from '../lib/wall-clock';

/**
 * Reads a `datetime-local` value as Paris wall-clock time. Returns null when the value is not a
 * date. Times the changes of time skip or repeat are read as `instantOf` says.
 */
export function parseParisLocal(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0));
  return instantOf({ year, month, day, hour, minute, second });
}

export { personLabel, personName } from '../features/persons/person-label';

export const plural = (n: number, one: string, many: string) => `${n} ${n > 1 ? many : one}`;

/** A path inside the app, or null: stored links and return paths never lead elsewhere. */
export function localPath(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  if (!/^\/(?![/\\])[^\s]*$/.test(value) || value.length > 500) return null;
  return value;
}
