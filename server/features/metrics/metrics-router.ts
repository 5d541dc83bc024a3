import express, {
  Router,
  type ErrorRequestHandler,
  type Express,
  type RequestHandler,
} from 'express';
import { hasRole, isPublic } from '../../auth/policies';
import { jsonErrorHandler } from '../../lib/error-handler';
import type { Logger } from '../../lib/logger';
import type { Metrics } from './metrics-service';

const serve =
  (metrics: Metrics): RequestHandler =>
  async (_req, res) => {
    const body = await metrics.render();
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(body);
  };

/**
 * GET /metrics on the app's own port: admins only (a session); anyone else a JSON 401 or 403,
 * never the login page, since a scraper reads it.
 */
export function metricsRouter(metrics: Metrics, logger: Logger): Router {
  const r = Router();
  r.get('/metrics', hasRole('admin'), serve(metrics));
  r.use('/metrics', jsonErrorHandler(logger));
  return r;
}

/**
 * The private metrics port (METRICS_PORT): /metrics without a session, for a Prometheus on the
 * private network, and the operator's own views given in `routers` (the queue dashboard); the
 * port must not be reachable from outside. Nothing else is served there.
 */
export function createMetricsApp(
  metrics: Metrics,
  routers: Router[] = [],
  logger?: Logger,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', isPublic(), serve(metrics));
  for (const r of routers) app.use(r);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  const failed: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    logger?.error({ err, path: req.path }, 'Request on the private port failed');
    res.status(500).type('text').send('Internal error');
  };
  app.use(failed);
  return app;
}
