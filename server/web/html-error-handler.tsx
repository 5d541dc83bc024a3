import fs from 'node:fs';
import path from 'node:path';
import express, {
  Router,
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { PERSON_ROLES } from '../auth/actor';
import { isPublic } from '../auth/policies';
import type { Logger } from '../lib/logger';
import {
  ControlCharacterError,
  hasCode,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../lib/errors';
import { jsonErrorHandler, toErrorBody } from '../lib/error-handler';
import type { NotificationService } from '../features/notifications/notification-service';
import type { PersonMergeService } from '../features/persons/person-merge-service';
import { localPath } from './format';
import { formFields, pageOf } from './form-pages';
import { ANONYMISED_TEXT } from './forms';
import { keptForm, type KeptForm } from './kept-form';
import { pageContext } from './page-context';
import { saveAndRedirect } from './page-helpers';
import { sendPage } from './render';
import { ErrorPage } from './views/error-page';
import type { PageContext } from './views/layout';

/** What each status says to a social worker, and what to do about it. */
const TEXTS: Record<number, { title: string; message: string }> = {
  400: {
    title: 'Demande incorrecte',
    message:
      'Les informations envoyées ne sont pas valides. Revenez à la page précédente, vérifiez ce que vous avez saisi et recommencez.',
  },
  403: {
    title: 'Accès refusé',
    message:
      'Votre compte ne permet pas d’ouvrir cette page. Si vous pensez en avoir besoin, demandez à votre cadre ou à l’administrateur de votre structure.',
  },
  404: {
    title: 'Page introuvable',
    message:
      'Cette page n’existe pas ou ne concerne pas votre structure. Vérifiez l’adresse, ou retrouvez la personne depuis la recherche.',
  },
  409: {
    title: 'Déjà fait ou plus possible',
    message:
      'Cette action se heurte à ce qui est enregistré : elle a peut-être déjà été faite, par vous ou par quelqu’un d’autre. Rien n’a été enregistré. Revenez à la page précédente et rechargez-la pour voir où en sont les choses.',
  },
  413: {
    title: 'Texte trop long',
    message: 'Ce que vous avez saisi est trop long. Raccourcissez le texte et recommencez.',
  },
  429: {
    title: 'Trop de demandes',
    message: 'Trop de demandes en peu de temps. Patientez quelques minutes puis recommencez.',
  },
  503: {
    title: 'Service momentanément indisponible',
    message:
      'aller-vers ne parvient pas à joindre sa base de données. Rien n’a été perdu : réessayez dans quelques instants.',
  },
  500: {
    title: 'Une erreur est survenue',
    message:
      'Une erreur inattendue nous empêche d’afficher cette page. Réessayez dans quelques instants ; si cela recommence, signalez-le.',
  },
};

const CSRF_TEXT = {
  title: 'Formulaire expiré',
  message:
    'Ce formulaire a expiré ou ne provient pas d’aller-vers. Revenez à la page précédente, rechargez-la, puis envoyez à nouveau le formulaire.',
};

/**
 * Errors that say more than their status, chosen by their stable code; a page that handles one
 * itself (the edit form's 409, say) never gets here.
 */
const CODE_TEXTS: Record<string, { title: string; message: string }> = {
  csrf: CSRF_TEXT,
  stale_version: {
    title: 'Modifié entre-temps',
    message:
      'Quelqu’un a modifié ces informations depuis que vous avez ouvert la page ; rien n’a été enregistré. Revenez à la page précédente, rechargez-la, puis recommencez.',
  },
  anonymised: {
    title: 'Fiche anonymisée',
    message: ANONYMISED_TEXT,
  },
  invalid_transition: {
    title: 'Action plus possible',
    message:
      'Cette action n’est plus possible dans l’état actuel ; rien n’a été enregistré. Rechargez la page pour voir où en sont les choses.',
  },
};

const MERGED_TEXT = {
  title: 'Fiche fusionnée',
  message:
    'Cette fiche a été fusionnée avec une autre fiche de la même personne : tout ce qu’elle contenait s’y trouve désormais.',
};

/** A person file's address: the file's id, then the page of it, if any (`/modifier`…). */
const PERSON_PATH =
  /^\/personnes\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/i;

/**
 * Where the page of a merged file leads: the kept file, or its journal from the journal (which
 * holds the merged file's events too).
 */
const keptFileLink = (path: string, keptId: string) =>
  /\/journal\/?$/.test(path)
    ? { href: `/personnes/${keptId}/journal`, label: 'Ouvrir le journal de la fiche conservée' }
    : { href: `/personnes/${keptId}`, label: 'Ouvrir la fiche conservée' };

/**
 * A control character refused, naming where it was: a form field by the label its form shows
 * it under (`kept`, what was typed, shown back above), or a parameter of the address.
 */
function controlCharacterText(
  err: ControlCharacterError,
  label: string | null,
  shownBack: boolean,
) {
  const where =
    err.where !== 'body'
      ? `Le paramètre « ${err.field} » de l’adresse`
      : label
        ? `Le champ « ${label} »`
        : 'Un champ du formulaire';
  const next = shownBack
    ? 'Rien n’a été enregistré ; ce que vous aviez saisi est repris ci-dessus, sans ce caractère.'
    : 'Rien n’a été enregistré : revenez à la page précédente, retapez ce champ et recommencez.';
  return {
    title: 'Caractère invisible refusé',
    message: `${where} contient un caractère invisible (un caractère de contrôle, souvent venu d’un copier-coller). ${next}`,
  };
}

/** DSFR from its npm package (no CDN), then our own small stylesheet. Mounted before sessions. */
export function webStatic(): Router {
  const r = Router();
  const dsfr = path.dirname(require.resolve('@gouvfr/dsfr/package.json'));
  const opts = { index: false, maxAge: '7d', fallthrough: true } as const;
  r.use('/static/dsfr', express.static(path.join(dsfr, 'dist'), opts));
  // The API reference's viewer: its stylesheet and bundle only, not the package's demo page.
  const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js'])
    r.get(`/static/swagger-ui/${file}`, isPublic(), (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=604800');
      res.sendFile(path.join(swaggerUi, file));
    });
  const favicon = path.join(dsfr, 'dist/favicon/favicon.ico');
  r.get('/favicon.ico', isPublic(), (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=604800');
    res.sendFile(favicon);
  });
  // From the sources (tsx) the assets sit next to this file; from a tsc build, in the sources.
  const own = [path.join(__dirname, 'static'), path.resolve('server/web/static')].find((d) =>
    fs.existsSync(d),
  );
  if (own) r.use('/static', express.static(own, { ...opts, maxAge: '1h' }));
  return r;
}

/**
 * The page a form was on: the page the Referer shows (our Referrer-Policy, same-origin, lets the
 * browser send it; a path of this app only, never another site's address), which after a form
 * sent back with its mistakes is the address the form was posted to (`pageOf` turns it into the
 * form's page); else the page the form names (`retour`), else the page its own address belongs
 * to.
 */
function formPage(req: Request, publicOrigin: string): string | null {
  const retour = (req.body as Record<string, unknown> | undefined)?.retour;
  for (const address of [refererPath(req, publicOrigin), retour, req.path]) {
    const page = typeof address === 'string' ? pageOf(address) : null;
    if (page) return page;
  }
  return null;
}

/**
 * Whether an origin a browser sent is this app's: PUBLIC_URL's, or the one the request reached
 * (a browser on another site sends its own origin, whatever host it posts to).
 */
const isOwnOrigin = (req: Request, publicOrigin: string, origin: string) =>
  origin === publicOrigin || origin === `${req.protocol}://${req.get('host')}`;

/** The path and query of the Referer when it is an address of this app. */
function refererPath(req: Request, publicOrigin: string): string | null {
  const referer = req.get('referer');
  if (!referer) return null;
  try {
    const url = new URL(referer);
    if (!isOwnOrigin(req, publicOrigin, url.origin)) return null;
    return localPath(`${url.pathname}${url.search}`);
  } catch {
    return null;
  }
}

/**
 * Whether the browser sent the form from a page of this app (Sec-Fetch-Site, else Origin, else
 * Referer): what another site posts is never kept, so no site can fill a form for the user.
 */
function sentFromHere(req: Request, publicOrigin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin) return isOwnOrigin(req, publicOrigin, origin);
  return refererPath(req, publicOrigin) !== null;
}

export const pageNotFound: RequestHandler = (_req, _res, next) => next(new NotFoundError('Page'));

/**
 * Errors of the pages as pages; /api keeps its JSON. A visitor who is not signed in is sent
 * to the login page with a way back.
 */
export function htmlErrorHandler(
  logger: Logger,
  notifications: Pick<NotificationService, 'unreadCount'>,
  personMerges: Pick<PersonMergeService, 'keptFileOf'>,
  publicUrl: string,
): ErrorRequestHandler {
  const json = jsonErrorHandler(logger);
  const publicOrigin = new URL(publicUrl).origin;
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (req.path === '/api' || req.path.startsWith('/api/')) return json(err, req, res, next);
    return void renderError(err, req, res).catch((e: unknown) => {
      logger.error({ err: e, requestId: req.id }, 'Error page failed');
      if (!res.headersSent) res.status(500).type('text').send('Une erreur est survenue.');
    });
  };

  /** What was typed in this request's form, kept for its page, when it was sent from here. */
  function typed(
    req: Request,
    page: string | null,
    reason: KeptForm['reason'],
    invalid?: string,
  ): KeptForm | null {
    if (!page || !sentFromHere(req, publicOrigin)) return null;
    return keptForm(req, page, reason, formFields(req.path), invalid);
  }

  /** Puts the form kept in the session, for its page to give back, then redirects. */
  function keepAndRedirect(req: Request, res: Response, kept: KeptForm, to: string) {
    req.session.keptForm = kept;
    return saveAndRedirect(req, res, to);
  }

  /**
   * The file a page of a person file not found went into, when that file was merged: an old
   * link, or a form left open while a manager merged the file. Staff of its structure only.
   */
  async function mergedFile(
    err: unknown,
    req: Request,
  ): Promise<{ mergedId: string; keptId: string } | null> {
    if (!hasCode(err, 'not_found') || !req.user || !PERSON_ROLES.includes(req.user.role))
      return null;
    const mergedId = PERSON_PATH.exec(req.path)?.[1]?.toLowerCase();
    if (!mergedId) return null;
    const keptId = await personMerges.keptFileOf(req.user, mergedId);
    return keptId ? { mergedId, keptId } : null;
  }

  async function renderError(err: unknown, req: Request, res: Response): Promise<void> {
    // A form posted to a file merged meanwhile: what was typed is given back on the same page
    // of the kept file, which says where it went; a page of it shows where the file went.
    const merged = await mergedFile(err, req);
    if (merged && req.method === 'POST') {
      const kept = typed(req, formPage(req, publicOrigin), 'merged');
      if (kept) {
        const moved = (address: string) => address.split(merged.mergedId).join(merged.keptId);
        const there = { ...kept, action: moved(kept.action), page: moved(kept.page) };
        return keepAndRedirect(req, res, there, there.page);
      }
    }

    if (err instanceof UnauthorizedError) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        const back =
          req.originalUrl === '/' ? '' : `?retour=${encodeURIComponent(req.originalUrl)}`;
        return res.redirect(302, `/connexion${back}`);
      }
      if (req.path === '/deconnexion') return res.redirect(303, '/connexion?deconnecte=1');
      // A form sent after the session ended: what was typed is kept in the new session, and the
      // login page leads back to the page the form was on, which gives it back.
      const page = formPage(req, publicOrigin);
      const back = page && page !== '/' ? `&retour=${encodeURIComponent(page)}` : '';
      const to = `/connexion?session=expiree${back}`;
      const kept = typed(req, page, 'session');
      if (kept) return keepAndRedirect(req, res, kept, to);
      return res.redirect(303, to);
    }

    const isCsrf = (err as { code?: string })?.code === 'EBADCSRFTOKEN';
    // A token of another session (a login since, in another tab): the form's page, up to date
    // and with a fresh token, gives back what was typed.
    if (isCsrf && req.method === 'POST') {
      const kept = typed(req, formPage(req, publicOrigin), 'token');
      if (kept) return keepAndRedirect(req, res, kept, kept.page);
    }
    // A control character in a form (pasted from a word processor): the form's page gives back
    // what was typed without it, the field's mistake said next to it. Without a signed-in
    // session to carry it (the public report form makes none), this page shows it instead.
    let shownBack: KeptForm | null = null;
    let label: string | null = null;
    if (err instanceof ControlCharacterError && err.where === 'body') {
      const field = err.field.split('.')[0];
      label = formFields(req.path).labels[field] ?? null;
      shownBack =
        req.method === 'POST'
          ? typed(req, formPage(req, publicOrigin), 'control_character', field)
          : null;
      if (shownBack && req.user) return keepAndRedirect(req, res, shownBack, shownBack.page);
    }
    const { status, body } = isCsrf
      ? { status: 403, body: { error: { code: 'csrf', message: '', requestId: undefined } } }
      : toErrorBody(err, String(req.id));
    if (status >= 500) {
      logger.error({ err, requestId: req.id, path: req.route?.path }, 'Page failed');
    }
    if (err instanceof TooManyRequestsError && err.retryAfterSeconds) {
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
    }
    const text = merged
      ? MERGED_TEXT
      : err instanceof ControlCharacterError
        ? controlCharacterText(err, label, shownBack !== null)
        : (CODE_TEXTS[body.error.code] ?? TEXTS[status] ?? TEXTS[status >= 500 ? 500 : 400]);

    let ctx: PageContext;
    try {
      // The frame needs the database (unread count); when it is the database that failed,
      // the page still renders, without the count.
      ctx = await pageContext(req, status >= 500 ? null : notifications, { keepFlash: true });
    } catch {
      ctx = { actor: req.user ?? null, csrfToken: '', unread: 0, flash: null, staff: false };
    }
    ctx.kept = shownBack;
    const requestId = status >= 500 ? (body.error.requestId ?? String(req.id)) : undefined;
    sendPage(
      res,
      <ErrorPage
        ctx={ctx}
        status={status}
        title={text.title}
        message={text.message}
        requestId={requestId}
        next={merged ? keptFileLink(req.path, merged.keptId) : undefined}
      />,
      status,
    );
  }
}
