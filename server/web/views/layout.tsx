import type { ComponentChildren } from 'preact';
import { homeFor, type Actor } from '../../auth/actor';
import type { AccessibilityLevel } from '../../features/settings/settings-schemas';
import type { KeptForm } from '../kept-form';

type NavKey =
  | 'backlog'
  | 'actions'
  | 'persons'
  | 'referrals'
  | 'reports'
  | 'partners'
  | 'rights'
  | 'notifications'
  | 'admin'
  | 'home'
  | 'deadlines'
  | 'account'
  | 'observation'
  | 'none';

export interface Flash {
  type: 'success' | 'error' | 'info' | 'warning';
  message: string;
  /** A move that can be taken back from the message: a form posting these fields. */
  undo?: { action: string; fields: Record<string, string>; label: string };
}

/** What every page's frame needs: who is signed in, the CSRF token, the unread count. */
export interface PageContext {
  actor: Actor | null;
  csrfToken: string;
  unread: number;
  flash: Flash | null;
  /** A form refused for its session or token, kept for this page (server/web/kept-form.ts). */
  kept?: KeptForm | null;
  /** Whether the actor may open person files (workers and managers). */
  staff: boolean;
  /** The RGAA level the footer states (the structure's setting); absent when it could not be read. */
  accessibility?: AccessibilityLevel;
}

/** An RGAA conformity level as the statement and the footer say it. */
export const ACCESSIBILITY_LEVEL_TEXT: Record<AccessibilityLevel, string> = {
  non_conforme: 'non conforme',
  partiellement_conforme: 'partiellement conforme',
  totalement_conforme: 'totalement conforme',
};

const STATIC = '/static';

function NavLink({
  href,
  current,
  children,
}: {
  href: string;
  current: boolean;
  children: ComponentChildren;
}) {
  return (
    <li class="fr-nav__item">
      <a class="fr-nav__link" href={href} aria-current={current ? 'page' : undefined}>
        {children}
      </a>
    </li>
  );
}

/** The signed-in user's name and the logout button (a form: logging out changes state). */
function ToolsLinks({ ctx }: { ctx: PageContext }) {
  return (
    <ul class="fr-btns-group">
      <li>
        <a
          class="fr-btn fr-btn--tertiary-no-outline fr-icon-account-circle-line av-user"
          href="/mon-compte"
          title="Mon compte"
        >
          {ctx.actor?.name}
        </a>
      </li>
      <li>
        <form method="post" action="/deconnexion" class="av-logout">
          <input type="hidden" name="_csrf" value={ctx.csrfToken} />
          <button type="submit" class="fr-btn fr-icon-logout-box-r-line">
            Se déconnecter
          </button>
        </form>
      </li>
    </ul>
  );
}

function Header({ ctx, nav }: { ctx: PageContext; nav: NavKey }) {
  const { actor } = ctx;
  return (
    <header role="banner" class="fr-header">
      <div class="fr-header__body">
        <div class="fr-container">
          <div class="fr-header__body-row">
            <div class="fr-header__brand fr-enlarge-link">
              <div class="fr-header__brand-top">
                <div class="fr-header__service">
                  <a href={actor ? homeFor(actor.role) : '/'} title="Accueil - aller-vers">
                    <p class="fr-header__service-title">aller-vers</p>
                  </a>
                  <p class="fr-header__service-tagline">
                    Aller vers les personnes, suivre chaque démarche
                  </p>
                </div>
                {actor ? (
                  <div class="fr-header__navbar">
                    <button
                      class="fr-btn--menu fr-btn"
                      data-fr-opened="false"
                      aria-controls="menu-principal"
                      aria-haspopup="menu"
                      id="bouton-menu"
                      title="Menu"
                      type="button"
                    >
                      Menu
                    </button>
                  </div>
                ) : null}
              </div>
            </div>
            {actor ? (
              <div class="fr-header__tools">
                <div class="fr-header__tools-links">
                  <ToolsLinks ctx={ctx} />
                </div>
              </div>
            ) : null}
          </div>
        </div>
      </div>
      {actor ? (
        <div class="fr-header__menu fr-modal" id="menu-principal" aria-labelledby="bouton-menu">
          <div class="fr-container">
            <button class="fr-btn--close fr-btn" aria-controls="menu-principal" type="button">
              Fermer
            </button>
            {/* The DSFR copies the tools here on small screens; rendered already for no-JS. */}
            <div class="fr-header__menu-links">
              <ToolsLinks ctx={ctx} />
            </div>
            <nav class="fr-nav" id="navigation" role="navigation" aria-label="Menu principal">
              <ul class="fr-nav__list">
                {ctx.staff ? (
                  <>
                    {ctx.actor?.role === 'manager' ? (
                      <>
                        <NavLink href="/" current={nav === 'backlog'}>
                          Tableau de l’équipe
                        </NavLink>
                        <NavLink href="/mes-actions" current={nav === 'actions'}>
                          Mes actions
                        </NavLink>
                        <NavLink href="/observation" current={nav === 'observation'}>
                          Observation
                        </NavLink>
                      </>
                    ) : (
                      <NavLink href="/" current={nav === 'actions'}>
                        Mes actions
                      </NavLink>
                    )}
                    <NavLink href="/personnes" current={nav === 'persons'}>
                      Personnes
                    </NavLink>
                    <NavLink href="/orientations" current={nav === 'referrals'}>
                      Orientations
                    </NavLink>
                    <NavLink href="/signalements" current={nav === 'reports'}>
                      Signalements
                    </NavLink>
                  </>
                ) : null}
                {ctx.actor?.role === 'partner' ? (
                  <NavLink href="/orientations" current={nav === 'referrals'}>
                    Demandes reçues
                  </NavLink>
                ) : null}
                {ctx.actor?.role === 'observer' ? (
                  <NavLink href="/" current={nav === 'home'}>
                    Observation sociale
                  </NavLink>
                ) : null}
                {ctx.actor?.role === 'admin' ? (
                  <NavLink href="/admin" current={nav === 'admin'}>
                    Administration
                  </NavLink>
                ) : null}
                {ctx.actor?.role === 'admin' ? (
                  <NavLink href="/admin/partenaires" current={nav === 'partners'}>
                    Partenaires
                  </NavLink>
                ) : null}
                {ctx.actor?.role === 'admin' ? (
                  <NavLink href="/admin/droits" current={nav === 'rights'}>
                    Droits et aides
                  </NavLink>
                ) : null}
                {ctx.actor?.role === 'admin' ? (
                  <NavLink href="/admin/echeances" current={nav === 'deadlines'}>
                    Échéances
                  </NavLink>
                ) : null}
                <NavLink href="/notifications" current={nav === 'notifications'}>
                  Notifications
                  {ctx.unread > 0 ? (
                    <span class="fr-badge fr-badge--sm fr-badge--info fr-ml-1w">
                      {ctx.unread}
                      <span class="fr-sr-only"> non lue{ctx.unread > 1 ? 's' : ''}</span>
                    </span>
                  ) : null}
                </NavLink>
              </ul>
            </nav>
          </div>
        </div>
      ) : null}
    </header>
  );
}

/** A flash that reports a problem (role="alert") rather than an outcome (role="status"). */
const isAlert = (flash: Flash) => flash.type === 'error' || flash.type === 'warning';

/**
 * The flash as the page title says it first. A live region present when the page loads is not
 * reliably announced, while the title is read on arrival: a screen reader user hears what the
 * redirect's move did (or why it did nothing) before the page's name.
 */
function flashTitle(flash: Flash): string {
  const text = flash.message.trim().replace(/\.$/, '');
  return flash.type === 'error' ? `Erreur — ${text}` : text;
}

/** The document title: the flash first, then "Erreur — " when the page shows errors, once. */
function pageTitle(title: string, hasErrors: boolean, flash: Flash | null): string {
  const error = hasErrors && flash?.type !== 'error' ? 'Erreur — ' : '';
  return `${flash ? `${flashTitle(flash)} — ` : ''}${error}${title} — aller-vers`;
}

function FlashMessage({ flash, csrfToken }: { flash: Flash | null; csrfToken: string }) {
  if (!flash) return null;
  // A problem also takes the focus, as the error summary does (autofocus: no inline script).
  const alert = isAlert(flash);
  return (
    <div
      class={`fr-alert fr-alert--${flash.type} fr-alert--sm fr-mb-3w`}
      role={alert ? 'alert' : 'status'}
      tabIndex={alert ? -1 : undefined}
      autofocus={alert}
    >
      <p>{flash.message}</p>
      {flash.undo && csrfToken ? (
        <form method="post" action={flash.undo.action} class="fr-mt-1w">
          <input type="hidden" name="_csrf" value={csrfToken} />
          {Object.entries(flash.undo.fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit" class="fr-btn fr-btn--sm fr-btn--tertiary">
            {flash.undo.label}
          </button>
        </form>
      ) : null}
    </div>
  );
}

const KEPT_REASONS: Record<KeptForm['reason'], (kept: KeptForm) => string> = {
  session: () => 'Votre session avait expiré',
  token: () =>
    'Ce formulaire venait d’une session précédente (une nouvelle connexion a eu lieu entre-temps, peut-être dans un autre onglet)',
  control_character: ({ invalid }) =>
    `${invalid?.[1] ? `Le champ « ${invalid[1]} »` : 'Un champ du formulaire'} contenait un caractère invisible (souvent venu d’un copier-coller), retiré de ce que vous aviez saisi`,
  merged: () =>
    'La fiche où vous écriviez a été fusionnée entre-temps avec celle-ci, la fiche conservée de la même personne',
};

/**
 * A form refused for its session or its token (or sent to a file merged meanwhile), given back
 * on its page: back in the form when the page could fill it (a link to it), else what was typed,
 * read-only, under the form's labels, to copy into it.
 */
function KeptFormNotice({ kept }: { kept: KeptForm }) {
  const why = `${KEPT_REASONS[kept.reason](kept)} : rien n’a été enregistré.`;
  return (
    <div class="fr-alert fr-alert--warning fr-mb-3w" role="alert">
      <p class="fr-alert__title">Votre saisie a été conservée</p>
      {kept.restoredAt ? (
        <p>
          {why} Ce que vous aviez saisi est remis dans le formulaire :{' '}
          <a href={kept.restoredAt}>vérifiez-le</a>, puis envoyez-le à nouveau.
        </p>
      ) : (
        <>
          <p>
            {why} Voici ce que vous aviez saisi : copiez-le dans le formulaire, puis envoyez-le à
            nouveau.
          </p>
          {kept.text.map(([name, label]) => (
            <div class="fr-input-group fr-mt-2w">
              <label class="fr-label" for={`saisie-conservee-${name}`}>
                {label}
              </label>
              <textarea
                class="fr-input"
                id={`saisie-conservee-${name}`}
                rows={Math.min(8, (kept.values[name] ?? '').split('\n').length + 1)}
                readOnly
              >
                {kept.values[name] ?? ''}
              </textarea>
            </div>
          ))}
        </>
      )}
    </div>
  );
}

/** The legal pages every footer links to (server/web/legal). */
export const LEGAL_LINKS = [
  { href: '/accessibilite', label: 'Accessibilité' },
  { href: '/mentions-legales', label: 'Mentions légales' },
  { href: '/donnees-personnelles', label: 'Données personnelles' },
  { href: '/docs/api', label: "Documentation de l'API" },
] as const;

function Footer({ accessibility }: { accessibility?: AccessibilityLevel }) {
  return (
    <footer class="fr-footer av-footer" role="contentinfo" id="pied-de-page">
      <div class="fr-container">
        <div class="fr-footer__body">
          <div class="fr-footer__content">
            <p class="fr-footer__content-desc">
              aller-vers — suivi des personnes que le CCAS ne rencontre pas encore. Les données sont
              personnelles : ne les copiez pas hors de l'outil.
            </p>
          </div>
        </div>
        <div class="fr-footer__bottom">
          <ul class="fr-footer__bottom-list">
            {LEGAL_LINKS.map((l) => (
              <li class="fr-footer__bottom-item">
                <a class="fr-footer__bottom-link" href={l.href}>
                  {l.label}
                  {/* RGAA: every page's footer states the level of the statement it links to. */}
                  {l.href === '/accessibilite' && accessibility
                    ? ` : ${ACCESSIBILITY_LEVEL_TEXT[accessibility]}`
                    : ''}
                </a>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </footer>
  );
}

export function Layout({
  title,
  hasErrors = false,
  ctx,
  nav = 'none',
  styles = [],
  scripts = [],
  children,
}: {
  title: string;
  /**
   * The page shows errors (a refused form): the title says it first ("Erreur — "), as the DSFR
   * asks, so a screen reader user hears it on arrival. An error flash says it already.
   */
  hasErrors?: boolean;
  ctx: PageContext;
  nav?: NavKey;
  /** A page's own stylesheets and scripts (files of this origin: the CSP allows no inline code). */
  styles?: readonly string[];
  scripts?: readonly string[];
  children: ComponentChildren;
}) {
  return (
    <html lang="fr" data-fr-scheme="light">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no" />
        <meta name="format-detection" content="telephone=no" />
        <title>{pageTitle(title, hasErrors, ctx.flash)}</title>
        <link rel="stylesheet" href={`${STATIC}/dsfr/dsfr.min.css`} />
        <link rel="stylesheet" href={`${STATIC}/dsfr/utility/icons/icons.min.css`} />
        <link rel="stylesheet" href={`${STATIC}/app.css`} />
        {styles.map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        <link rel="icon" href={`${STATIC}/dsfr/favicon/favicon.svg`} type="image/svg+xml" />
      </head>
      <body>
        <div class="fr-skiplinks">
          <nav class="fr-container" role="navigation" aria-label="Accès rapide">
            <ul class="fr-skiplinks__list">
              <li>
                <a class="fr-link" href="#contenu">
                  Aller au contenu
                </a>
              </li>
              {ctx.actor ? (
                <>
                  {/* Large screens show the menu: the link goes to it. */}
                  <li class="fr-hidden fr-unhidden-lg av-skip-to-nav">
                    <a class="fr-link" href="#navigation">
                      Aller au menu
                    </a>
                  </li>
                  {/* Small screens keep it in a closed dialog: the link goes to its button. */}
                  <li class="fr-hidden-lg av-skip-to-menu-button">
                    <a class="fr-link" href="#bouton-menu">
                      Aller au menu
                    </a>
                  </li>
                </>
              ) : null}
            </ul>
          </nav>
        </div>
        <Header ctx={ctx} nav={nav} />
        <main id="contenu" role="main" class="fr-container fr-py-4w" tabIndex={-1}>
          <FlashMessage flash={ctx.flash} csrfToken={ctx.csrfToken} />
          {ctx.kept ? <KeptFormNotice kept={ctx.kept} /> : null}
          {children}
        </main>
        <Footer accessibility={ctx.accessibility} />
        <script type="module" src={`${STATIC}/dsfr/dsfr.module.min.js`}></script>
        <script noModule src={`${STATIC}/dsfr/dsfr.nomodule.min.js`}></script>
        {/* Creation forms: the submit button disabled after the first submit (a convenience). */}
        <script src={`${STATIC}/submit-once.js`}></script>
        {scripts.map((src) => (
          <script src={src}></script>
        ))}
      </body>
    </html>
  );
}
