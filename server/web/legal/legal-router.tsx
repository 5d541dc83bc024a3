import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { NotFoundError } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import { pageContext } from '../page-context';
import { sendPage } from '../render';
import {
  AccessibilityPage,
  LegalNoticePage,
  PersonalDataPage,
  type LegalPageProps,
} from './legal-pages';

type Services = Deps['services'];

/** `?structure=<slug>` names the structure a visitor asks about; nothing else is taken. */
const legalQuery = z
  .object({
    structure: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a structure slug')
      .optional(),
  })
  .strict();

const PAGES: [string, (p: LegalPageProps) => preact.JSX.Element][] = [
  ['/accessibilite', AccessibilityPage],
  ['/mentions-legales', LegalNoticePage],
  ['/donnees-personnelles', PersonalDataPage],
];

/**
 * The legal pages every footer links to, open to anyone. They speak for the structure named by
 * `?structure=`, else the signed-in user's, else the deployment's first; an unknown slug is a 404.
 */
export function legalWebRouter(services: Services): Router {
  const r = Router();
  for (const [path, Page] of PAGES)
    r.get(path, isPublic(), async (req: Request, res: Response) => {
      const { structure: slug } = parseInput(legalQuery, req.query, 'query parameter');
      const notice = await services.settings.legalNotice({
        slug,
        structureId: slug ? undefined : req.user?.structureId,
      });
      if (slug && !notice) throw new NotFoundError('Structure');
      // The footer states the level of the structure this page speaks for.
      if (notice) res.locals.accessibilityLevel = notice.settings.accessibilityLevel;
      sendPage(res, <Page ctx={await pageContext(req, services.notifications)} notice={notice} />);
    });
  return r;
}

/**
 * Reads, for every page, the RGAA level its footer states: the signed-in user's structure's, or
 * the deployment's first for a visitor. One read by primary key; when it fails (the database
 * down) the footer names no level and the page goes on to its own answer.
 */
export function accessibilityLevels(services: Pick<Services, 'settings'>): RequestHandler {
  return async (req, res, next) => {
    try {
      const notice = await services.settings.legalNotice({ structureId: req.user?.structureId });
      if (notice) res.locals.accessibilityLevel = notice.settings.accessibilityLevel;
    } catch {
      // Nothing to add: the page reports the database error itself if it needs the database.
    }
    next();
  };
}
