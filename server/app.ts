import crypto from 'node:crypto';
import express, { Router, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Deps } from './container';
import { installSessions, servedOverHttps } from './auth/session';
import { isPublic } from './auth/policies';
import { bearerAuth } from './auth/bearer';
import { twoFactorGate } from './auth/two-factor-gate';
import { apiTokenRouter } from './features/api-tokens/api-token-router';
import { twoFactorRouter } from './features/two-factor/two-factor-router';
import { NotFoundError } from './lib/errors';
import { sameOriginForStateChanges } from './http/same-origin';
import { jsonErrorHandler } from './lib/error-handler';
import { pingPostgres } from './lib/db';
import { pingRedis } from './lib/redis';
import { authRouter } from './features/auth/auth-router';
import { docsRouter } from './features/docs/docs-router';
import { contactRouter } from './features/contacts/contact-router';
import { letterRouter } from './features/letters/letter-router';
import { auditRouter } from './features/audit/audit-router';
import { personExportRouter } from './features/exports/person-export-router';
import { backlogRouter } from './features/backlog/backlog-router';
import { observationRouter } from './features/observation/observation-router';
import { followUpRouter } from './features/follow-ups/follow-up-router';
import { notificationRouter } from './features/notifications/notification-router';
import { personRouter } from './features/persons/person-router';
import { webRouter } from './web/web-router';
import { backlogWebRouter } from './web/backlog/backlog-web-router';
import { queueDashboard } from './web/operator/queue-dashboard';
import { referralWebRouter } from './web/referrals/referral-web-router';
import { reportWebRouter } from './web/reports/report-web-router';
import { htmlErrorHandler, pageNotFound, webStatic } from './web/html-error-handler';
import { consentRouter } from './features/consents/consent-router';
import { partnerRouter } from './features/partners/partner-router';
import { referralRouter } from './features/referrals/referral-router';
import { rightRouter } from './features/rights/right-router';
import { districtRouter } from './features/districts/district-router';
import { reportRouter } from './features/reports/report-router';
import { settingsRouter } from './features/settings/settings-router';
import { teamRouter } from './features/teams/team-router';
import { userRouter } from './features/users/user-router';
import { PASSWORD_PATH_PREFIX } from './features/users/password-links';
import { PARTNER_EMAIL_PATH_PREFIX } from './features/partners/partner-email-changes';
import { deadlineAdminRouter } from './features/deadlines/deadline-admin-router';
import { referralLinkRouter } from './web/referrals/referral-link-router';
import { accessibilityLevels } from './web/legal/legal-router';
import { LINK_PATH_PREFIX } from './features/referrals/referral-link-tokens';
import { createRateLimiter } from './lib/rate-limit';
import { APP_VERSION } from './lib/package-info';
import { refuseControlCharacters } from './http/control-characters';
import { createMetricsApp, metricsRouter } from './features/metrics/metrics-router';

/** Builds the HTTP app without listening, so tests drive it through supertest. */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every API answer and page is `no-store`, so no client ever revalidates one: Express's ETag,
  // a hash of each body (a whole page's HTML), would be computed for nothing. Static assets
  // keep theirs (serve-static sets its own).
  app.set('etag', false);
  app.set('trust proxy', deps.config.TRUST_PROXY);

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req) => {
        const id = crypto.randomUUID();
        (req as express.Request).id = id;
        return id;
      },
      // URLs hold ids only; query strings may hold search terms, so they are not logged.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: redactLinkToken(req.url.split('?')[0]),
        }),
      },
      // Probes and static assets (a dozen icons a page) would bury the requests that matter.
      autoLogging: {
        ignore: (req) =>
          req.url === '/healthz' || req.url === '/readyz' || (req.url ?? '').startsWith('/static/'),
      },
    }),
  );
  // HSTS and upgrade-insecure-requests only when users reach the app over HTTPS: over plain
  // HTTP (the compose stack on localhost) Safari would upgrade every asset and form to https.
  const https = servedOverHttps(deps.config);
  if (deps.config.NODE_ENV === 'production' && !https)
    deps.logger.warn(
      { publicUrl: deps.config.publicUrl },
      'production over plain HTTP (ALLOW_INSECURE_HTTP=true): the session cookie is sent without Secure and no HSTS; for a local trial only',
    );
  app.use(
    helmet({
      strictTransportSecurity: https,
      // Our own pages learn which page a form was sent from (to come back to it after an
      // expired session); other sites get no referrer at all.
      referrerPolicy: { policy: 'same-origin' },
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'upgrade-insecure-requests': https ? [] : null,
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'font-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'object-src': ["'none'"],
          'base-uri': ["'self'"],
        },
      },
    }),
  );

  app.use(deps.metrics.observeHttp);

  app.get('/healthz', isPublic(), (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', isPublic(), async (_req, res) => {
    const [postgres, redis] = await Promise.all([pingPostgres(deps.knex), pingRedis(deps.redis)]);
    const body = {
      status: postgres && redis ? 'ready' : 'degraded',
      postgres: postgres ? 'up' : 'down',
      redis: redis ? 'up' : 'down',
    };
    res.status(postgres ? 200 : 503).json(body);
  });

  // Static assets before sessions: a stylesheet never touches the session store.
  app.use(webStatic());

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '100kb' }));
  installSessions(app, deps.knex, deps.config, deps.repos.users, deps.clock);
  app.use(refuseControlCharacters);
  app.use(metricsRouter(deps.metrics, deps.logger));

  const api = Router();
  const mustEnrol = deps.services.twoFactor.mustEnrol;
  api.use(
    noStore,
    bearerAuth(deps.services.apiTokens.authenticate),
    sameOriginForStateChanges(deps.config.publicUrl),
    twoFactorGate(mustEnrol, 'api'),
  );
  api.use(authRouter(deps.services.auth, deps.services.preferences));
  api.use(twoFactorRouter(deps.services.twoFactor));
  api.use(apiTokenRouter(deps.services.apiTokens));
  api.use(personRouter(deps.services.persons, deps.services.timeline, deps.services.personMerges));
  api.use(contactRouter(deps.services.contacts));
  api.use(letterRouter(deps.services.letters));
  api.use(auditRouter(deps.services.audit));
  api.use(personExportRouter(deps.services.personExports));
  api.use(followUpRouter(deps.services.followUps));
  api.use(backlogRouter(deps.services.backlog));
  api.use(observationRouter(deps.services.observation));
  api.use(notificationRouter(deps.services.notifications));
  api.use(partnerRouter(deps.services.partners));
  api.use(consentRouter(deps.services.consents));
  api.use(referralRouter(deps.services.referrals));
  api.use(rightRouter(deps.services.rights));
  api.use(districtRouter(deps.services.districts));
  api.use(reportRouter(deps.services.reports));
  api.use(teamRouter(deps.services.teams));
  api.use(settingsRouter(deps.services.settings));
  api.use(userRouter(deps.services.users));
  api.use(deadlineAdminRouter(deps.services.deadlineAdmin));
  api.use(docsRouter({ version: APP_VERSION, serverUrl: deps.config.publicUrl }));
  api.use((_req, _res, next) => next(new NotFoundError('Route')));
  app.use('/api', api, jsonErrorHandler(deps.logger));
  // Pages from here on: their footer states the structure's RGAA level.
  app.use(accessibilityLevels(deps.services));

  app.use(
    referralLinkRouter(
      deps.services.referralLinks,
      createRateLimiter(deps.redis, {
        keyPrefix: `${deps.config.QUEUE_PREFIX}:link:ip`,
        points: 30,
        durationSeconds: 15 * 60,
      }),
    ),
  );

  // Web back office: pages after the API; HTML errors (and login redirects) for non-/api paths.
  app.use(twoFactorGate(mustEnrol, 'pages'));
  app.use(
    noStore,
    referralWebRouter(deps.services, () => deps.clock.now()),
  );
  app.use(noStore, backlogWebRouter(deps.services));
  app.use(noStore, reportWebRouter(deps.services, deps.config.publicUrl));
  app.use(
    noStore,
    webRouter(deps.services, () => deps.clock.now()),
  );
  app.use(pageNotFound);
  app.use(
    htmlErrorHandler(
      deps.logger,
      deps.services.notifications,
      deps.services.personMerges,
      deps.config.publicUrl,
    ),
  );
  return app;
}

/**
 * The private port's app (METRICS_PORT), without a session: /metrics and the queue dashboard,
 * whose jobs span every structure and so are the operator's only, never a structure admin's.
 */
export function createPrivateApp(deps: Deps): Express {
  return createMetricsApp(deps.metrics, [queueDashboard(deps.queue)], deps.logger);
}

/** A signed link's, a set-password or an address link's token is a credential: logged without it. */
function redactLinkToken(path: string): string {
  if (path.startsWith(PASSWORD_PATH_PREFIX)) return `${PASSWORD_PATH_PREFIX}[token]`;
  if (path.startsWith(PARTNER_EMAIL_PATH_PREFIX)) return `${PARTNER_EMAIL_PATH_PREFIX}[token]`;
  return path.startsWith(LINK_PATH_PREFIX) ? `${LINK_PATH_PREFIX}[token]` : path;
}

/** Personal data must not stay in caches. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
