import {
  LETTERHEAD_FIELDS,
  SETTINGS_LABELS,
  SETTINGS_LEGAL_FIELDS,
  TEAM_LABELS,
  USER_LABELS,
} from './admin/admin-views';
import { DISTRICT_LABELS } from './districts/district-labels';
import { PASSWORD_PATH_PREFIX } from '../features/users/password-links';
import { localPath } from './format';
import { PERSON_SEARCH_LABELS } from './persons/duplicate-views';
import { CLOSE_LABELS, EDIT_LABELS } from './persons/person-edit-page';
import { LETTER_LABELS } from './persons/person-access-views';
import { PARTNER_LABELS, SERVICE_LABELS } from './referrals/partner-admin-views';
import { CONSENT_LABELS, MOVE_LABELS, REFERRAL_LABELS } from './referrals/referral-views';
import { REPORT_FIELD_LABELS, TRIAGE_FIELD_LABELS } from './reports/report-labels';
import { NEW_RIGHT_LABELS, RIGHT_ADMIN_LABELS } from './rights/right-labels';
import { COMPLETE_LABELS } from './views/actions-page';
import { TOKEN_LABELS, TOKENS_PATH } from './views/api-token-pages';
import { INTAKE_LABELS } from './views/intake-page';
import { LOGIN_LABELS } from './views/login-page';
import { PASSWORD_LABELS } from './views/password-pages';
import { CONTACT_LABELS, PLAN_LABELS, RESCHEDULE_LABELS } from './views/person-page';
import { SEARCH_LABELS } from './views/persons-page';
import { CODE_LABELS, ENROL_PATH } from './views/two-factor-pages';

/** A page form, by the address it is posted to. */
interface PageForm {
  action: string;
  /**
   * The page the form is on, with the action's parameters. Absent: the action is the page's own
   * address. Null: several pages carry the form, each telling which in its `retour` field (the
   * follow-up forms, the backlog's reassignment) or only in the Referer (the logout button).
   */
  page?: string | null;
  /** Its fields' labels, from the form's own map (the one its error summary reads). */
  labels?: Readonly<Record<string, string>>;
  /**
   * The fields where text is typed. A form refused for its session or its token is kept with
   * what was typed (server/web/kept-form.ts) when one of these holds something.
   */
  text?: readonly string[];
}

const PERSON_TEXT = ['alias', 'place', 'firstName', 'lastName', 'birthYear', 'phone', 'situation'];
const PARTNER_TEXT = ['name', 'email', 'phone', 'website', 'area', 'howToReach', 'description'];
const SERVICE_TEXT = ['name', 'description', 'area', 'howToReach', 'responseDelayDays'];

/**
 * Every form of the pages whose address is not its page's, or whose fields take typed text. A
 * form refused with its mistakes is shown again at the address it was posted to, so after such
 * an answer the browser's address (and the Referer of the next form) is that one, which no GET
 * answers: `pageOf` turns it into the page.
 */
const PAGE_FORMS: readonly PageForm[] = [
  { action: '/connexion', labels: LOGIN_LABELS },
  { action: '/connexion/code', labels: CODE_LABELS },
  { action: '/deconnexion', page: null },
  { action: '/mot-de-passe-oublie', labels: PASSWORD_LABELS },
  { action: `${PASSWORD_PATH_PREFIX}:token`, labels: PASSWORD_LABELS },
  // A person's file and what is done from it.
  { action: '/personnes', labels: SEARCH_LABELS },
  { action: '/personnes/nouvelle', labels: INTAKE_LABELS, text: PERSON_TEXT },
  {
    action: '/personnes/:id/modifier',
    labels: EDIT_LABELS,
    text: [...PERSON_TEXT, 'email', 'address'],
  },
  {
    action: '/personnes/:id/contacts',
    page: '/personnes/:id',
    labels: CONTACT_LABELS,
    text: ['summary', 'privateNote', 'nextFollowUpTitle'],
  },
  { action: '/personnes/:id/suivis', page: '/personnes/:id', labels: PLAN_LABELS, text: ['title'] },
  {
    action: '/suivis/:id',
    page: null,
    labels: { ...COMPLETE_LABELS, ...RESCHEDULE_LABELS },
    text: ['note'],
  },
  {
    action: '/personnes/:id/droits',
    page: '/personnes/:id',
    labels: NEW_RIGHT_LABELS,
    text: ['monthlyAmount', 'note'],
  },
  { action: '/personnes/:id/cloturer', page: '/personnes/:id/modifier', labels: CLOSE_LABELS },
  { action: '/personnes/:id/rouvrir', page: '/personnes/:id/modifier' },
  { action: '/personnes/:id/courrier', labels: LETTER_LABELS, text: ['place', 'phone', 'hours'] },
  {
    action: '/personnes/:id/fusion/recherche',
    page: '/personnes/:id/fusion',
    labels: PERSON_SEARCH_LABELS,
  },
  {
    action: '/personnes/:id/consentements',
    page: '/personnes/:id/orientations',
    labels: CONSENT_LABELS,
  },
  {
    action: '/personnes/:id/orientations',
    labels: REFERRAL_LABELS,
    text: ['reason', 'sharedSummary'],
  },
  {
    action: '/orientations/:id/transition',
    page: '/orientations/:id',
    labels: MOVE_LABELS,
    text: ['reason', 'outcome'],
  },
  { action: '/orientations/:id/lien', page: '/orientations/:id' },
  {
    action: '/orientations/signaler',
    page: '/orientations',
    labels: REPORT_FIELD_LABELS,
    text: ['location', 'who', 'concern'],
  },
  {
    action: '/signaler/:slug',
    labels: REPORT_FIELD_LABELS,
    text: ['location', 'who', 'concern', 'reporterContact'],
  },
  {
    action: '/signalements/:id/tri',
    page: '/signalements/:id',
    labels: TRIAGE_FIELD_LABELS,
    text: ['reason'],
  },
  {
    action: '/signalements/:id/recherche',
    page: '/signalements/:id',
    labels: PERSON_SEARCH_LABELS,
  },
  { action: '/equipe/confier', page: null },
  { action: '/equipe/confier-tout', page: '/' },
  { action: '/notifications/tout-lu', page: '/notifications' },
  { action: '/notifications/:id/lu', page: '/notifications' },
  // Account.
  { action: TOKENS_PATH, labels: TOKEN_LABELS, text: ['name'] },
  { action: `${TOKENS_PATH}/:id/revocation`, page: TOKENS_PATH },
  { action: `${ENROL_PATH}/activation`, page: ENROL_PATH },
  { action: `${ENROL_PATH}/confirmation`, page: ENROL_PATH, labels: CODE_LABELS },
  { action: `${ENROL_PATH}/codes-de-secours`, page: ENROL_PATH, labels: CODE_LABELS },
  { action: `${ENROL_PATH}/desactivation`, page: ENROL_PATH, labels: CODE_LABELS },
  // Administration.
  { action: '/admin/utilisateurs', labels: USER_LABELS, text: ['email', 'name'] },
  { action: '/admin/utilisateurs/:id', labels: USER_LABELS, text: ['email', 'name'] },
  { action: '/admin/utilisateurs/:id/lien', page: '/admin/utilisateurs/:id' },
  { action: '/admin/utilisateurs/:id/acces', page: '/admin/utilisateurs/:id' },
  { action: '/admin/utilisateurs/:id/double-authentification', page: '/admin/utilisateurs/:id' },
  { action: '/admin/equipes', labels: TEAM_LABELS, text: ['name'] },
  { action: '/admin/equipes/:id', labels: TEAM_LABELS, text: ['name'] },
  {
    action: '/admin/parametres',
    labels: SETTINGS_LABELS,
    // The texts typed, in the form's order: the letterhead's and the legal pages' (not the
    // level, a choice, nor the audit's date).
    text: Object.keys(SETTINGS_LABELS)
      .filter(
        (name) =>
          (LETTERHEAD_FIELDS as readonly string[]).includes(name) ||
          (SETTINGS_LEGAL_FIELDS as readonly string[]).includes(name),
      )
      .filter((name) => name !== 'accessibilityLevel' && name !== 'accessibilityAuditDate'),
  },
  {
    action: '/admin/partenaires',
    labels: PARTNER_LABELS,
    text: [...PARTNER_TEXT, 'serviceName', 'responseDelayDays'],
  },
  { action: '/admin/partenaires/:id', labels: PARTNER_LABELS, text: PARTNER_TEXT },
  { action: '/admin/partenaires/:id/revue', page: '/admin/partenaires' },
  { action: '/admin/partenaires/:id/adresse-en-attente/retrait', page: '/admin/partenaires/:id' },
  {
    action: '/admin/partenaires/:id/services',
    page: '/admin/partenaires/:id/services/nouveau',
    labels: SERVICE_LABELS,
    text: SERVICE_TEXT,
  },
  {
    action: '/admin/partenaires/:id/services/:serviceId',
    labels: SERVICE_LABELS,
    text: SERVICE_TEXT,
  },
  { action: '/admin/partenaires/:id/comptes', labels: USER_LABELS, text: ['email', 'name'] },
  { action: '/admin/quartiers', labels: DISTRICT_LABELS, text: ['name', 'code'] },
  {
    action: '/admin/quartiers/:id',
    page: '/admin/quartiers',
    labels: DISTRICT_LABELS,
    text: ['name', 'code'],
  },
  { action: '/admin/quartiers/:id/archive', page: '/admin/quartiers' },
  { action: '/admin/droits', labels: RIGHT_ADMIN_LABELS, text: ['code', 'label'] },
  {
    action: '/admin/droits/:code',
    page: '/admin/droits',
    labels: RIGHT_ADMIN_LABELS,
    text: ['label'],
  },
  { action: '/admin/droits/:code/archive', page: '/admin/droits' },
  { action: '/admin/echeances/:id/relancer', page: '/admin/echeances' },
];

/** An action's parameters (`:id`) as one path segment each. */
const COMPILED = PAGE_FORMS.map((f) => ({
  ...f,
  pattern: new RegExp(`^${f.action.replace(/:[A-Za-z]+/g, '([^/]+)')}$`),
  names: [...f.action.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]),
}));

function formAt(path: string) {
  for (const f of COMPILED) {
    const m = f.pattern.exec(path);
    if (m) return { form: f, params: m.slice(1) };
  }
  return null;
}

/**
 * The page an address of this app shows: a page's own address is itself (its query kept); the
 * address a form is posted to is the page the form is on (null when the form or the Referer
 * must say). Null for anything that is not a local path.
 */
export function pageOf(address: string): string | null {
  const local = localPath(address);
  if (!local) return null;
  const found = formAt(local.split(/[?#]/)[0]);
  if (!found) return local;
  const { form, params } = found;
  if (form.page === undefined) return local;
  if (form.page === null) return null;
  let page = form.page;
  form.names.forEach((name, i) => (page = page.replace(`:${name}`, params[i] ?? '')));
  return page;
}

/** The labels and typed-text fields of the form posted to this path (none for an unknown one). */
export function formFields(action: string): {
  labels: Readonly<Record<string, string>>;
  text: readonly string[];
} {
  const form = formAt(action)?.form;
  return { labels: form?.labels ?? {}, text: form?.text ?? [] };
}
