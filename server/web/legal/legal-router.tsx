import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AccessibilityLevel } from '../../features/settings/settings-schemas';
import { sessionFactsOf } from '../../auth/actor';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { NotFoundError } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import { pageContext, type AccessibilityLevelReader } from '../page-context';
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
      if (notice) {
        const level = notice.settings.accessibilityLevel;
        const read: AccessibilityLevelReader = () => Promise.resolve(level);
        res.locals.accessibilityLevel = read;
      }
      sendPage(res, <Page ctx={await pageContext(req, services.notifications)} notice={notice} />);
    });
  return r;
}

/**
 * Gives every page the RGAA level its footer states: the signed-in user's structure's, or the
 * deployment's first for a visitor. The session's user read brought the user's structure's
 * settings along; otherwise it is read only when a page is drawn (pageContext asks for it),
 * once per request, by primary key: a form post that redirects reads nothing. When the read
 * fails (the database down) the footer names no level and the page goes on to its own answer.
 */
export function accessibilityLevels(services: Pick<Services, 'settings'>): RequestHandler {
  return (req, res, next) => {
    let level: Promise<AccessibilityLevel | undefined> | undefined;
    const read: AccessibilityLevelReader = () => {
      const facts = req.user && sessionFactsOf(req.user);
      return (level ??= facts
        ? Promise.resolve(services.settings.fromStored(facts.structureSettings).accessibilityLevel)
        : services.settings.legalNotice({ structureId: req.user?.structureId }).then(
            (notice) => notice?.settings.accessibilityLevel,
            () => undefined,
          ));
    };
    res.locals.accessibilityLevel = read;
    next();
  };
}
