import { localPath } from './format';
import { TOKENS_PATH } from './views/api-token-pages';
import { ENROL_PATH } from './views/two-factor-pages';

/**
 * The page forms posted to an address of their own, which no GET answers: a form refused with
 * its mistakes is shown again at the address it was posted to, so after such an answer the
 * browser's address (and the Referer of the next form) is this one, not the page's.
 * `page` is the page the form is on, with the action's parameters; null when several pages
 * carry the form, each telling which in its `retour` field (the follow-up forms, the backlog's
 * reassignment) or only in the Referer (the logout button of every page). A form posted to its
 * page's own address (the intake, the edit page, the admin lists) needs no entry.
 */
const FORM_PAGES: readonly { action: string; page: string | null }[] = [
  { action: '/deconnexion', page: null },
  { action: '/suivis/:id', page: null },
  { action: '/personnes/:id/contacts', page: '/personnes/:id' },
  { action: '/personnes/:id/suivis', page: '/personnes/:id' },
  { action: '/personnes/:id/droits', page: '/personnes/:id' },
  { action: '/personnes/:id/cloturer', page: '/personnes/:id/modifier' },
  { action: '/personnes/:id/rouvrir', page: '/personnes/:id/modifier' },
  { action: '/personnes/:id/consentements', page: '/personnes/:id/orientations' },
  { action: '/personnes/:id/fusion/recherche', page: '/personnes/:id/fusion' },
  { action: '/orientations/:id/transition', page: '/orientations/:id' },
  { action: '/orientations/signaler', page: '/orientations' },
  { action: '/signalements/:id/tri', page: '/signalements/:id' },
  { action: '/equipe/confier', page: null },
  { action: '/equipe/confier-tout', page: '/' },
  { action: '/notifications/tout-lu', page: '/notifications' },
  { action: '/notifications/:id/lu', page: '/notifications' },
  { action: `${TOKENS_PATH}/:id/revocation`, page: TOKENS_PATH },
  { action: `${ENROL_PATH}/activation`, page: ENROL_PATH },
  { action: `${ENROL_PATH}/confirmation`, page: ENROL_PATH },
  { action: `${ENROL_PATH}/codes-de-secours`, page: ENROL_PATH },
  { action: `${ENROL_PATH}/desactivation`, page: ENROL_PATH },
  { action: '/admin/utilisateurs/:id/lien', page: '/admin/utilisateurs/:id' },
  { action: '/admin/utilisateurs/:id/acces', page: '/admin/utilisateurs/:id' },
  { action: '/admin/utilisateurs/:id/double-authentification', page: '/admin/utilisateurs/:id' },
  { action: '/admin/partenaires/:id/revue', page: '/admin/partenaires' },
  { action: '/admin/partenaires/:id/adresse-en-attente/retrait', page: '/admin/partenaires/:id' },
  { action: '/admin/partenaires/:id/services', page: '/admin/partenaires/:id/services/nouveau' },
  { action: '/admin/quartiers/:id', page: '/admin/quartiers' },
  { action: '/admin/quartiers/:id/archive', page: '/admin/quartiers' },
  { action: '/admin/droits/:code', page: '/admin/droits' },
  { action: '/admin/droits/:code/archive', page: '/admin/droits' },
  { action: '/admin/echeances/:id/relancer', page: '/admin/echeances' },
];

/** An action's parameters (`:id`) as one path segment each. */
const COMPILED = FORM_PAGES.map((f) => ({
  ...f,
  pattern: new RegExp(`^${f.action.replace(/:[A-Za-z]+/g, '([^/]+)')}$`),
  names: [...f.action.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]),
}));

/**
 * The page an address of this app shows: a page's own address is itself (its query kept); the
 * address a form is posted to is the page the form is on (null when the form or the Referer
 * must say). Null for anything that is not a local path.
 */
export function pageOf(address: string): string | null {
  const local = localPath(address);
  if (!local) return null;
  const path = local.split(/[?#]/)[0];
  for (const f of COMPILED) {
    const m = f.pattern.exec(path);
    if (!m) continue;
    if (f.page === null) return null;
    let page: string = f.page;
    f.names.forEach((name, i) => (page = page.replace(`:${name}`, m[i + 1])));
    return page;
  }
  return local;
}
