import express, { Router, type Express } from 'express';
import { isAuthenticated } from '../../../server/auth/policies';
import { createTestContext, type TestContext } from '../../setup/context';

interface FoundRoute {
  method: string;
  path: string;
  policy: string | undefined;
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: LayerLike[] };
}

/** Every route of an Express 5 app, with the policy marker of its first handler. */
export function walkRoutes(app: Express): FoundRoute[] {
  const found: FoundRoute[] = [];
  const visit = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const first = layer.route.stack[0]?.handle as { policy?: string } | undefined;
        for (const method of Object.keys(layer.route.methods)) {
          found.push({
            method: method.toUpperCase(),
            path: prefix + layer.route.path,
            policy: first?.policy,
          });
        }
      } else if (layer.handle?.stack) {
        const mount =
          typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        visit(layer.handle.stack, prefix + mount);
      }
    }
  };
  visit((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return found;
}

describe('deny by default: every route declares its policy', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  it('finds a policy marker on the first handler of every route of createApp(deps)', () => {
    const routes = walkRoutes(ctx.app);
    const missing = routes.filter((r) => !r.policy).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('walks into nested routers and sees the whole API contract', () => {
    const seen = new Set(walkRoutes(ctx.app).map((r) => `${r.method} ${r.path}`));
    for (const route of [
      'POST /api/session',
      'DELETE /api/session',
      'GET /api/me',
      'GET /api/persons',
      'POST /api/persons',
      'GET /api/persons/:id',
      'PATCH /api/persons/:id',
      'GET /api/persons/:id/timeline',
      'GET /api/persons/:id/contacts',
      'POST /api/persons/:id/contacts',
      'POST /api/persons/:id/follow-ups',
      'GET /api/follow-ups',
      'PATCH /api/follow-ups/:id',
      'GET /api/notifications',
      'POST /api/notifications/:id/read',
    ]) {
      expect(seen).toContain(route);
    }
  });

  it('marks person routes for workers and managers only, and login as public', () => {
    const byKey = new Map(walkRoutes(ctx.app).map((r) => [`${r.method} ${r.path}`, r.policy]));
    expect(byKey.get('GET /api/persons')).toBe('role:worker|manager');
    expect(byKey.get('PATCH /api/follow-ups/:id')).toBe('role:worker|manager');
    expect(byKey.get('POST /api/session')).toBe('public');
    expect(byKey.get('GET /api/me')).toBe('authenticated');
  });

  it('would fail on a route without a policy, even nested two routers deep', () => {
    const app = express();
    const inner = Router();
    inner.get('/marked', isAuthenticated(), (_req, res) => {
      res.end();
    });
    inner.post('/forgotten', (_req, res) => {
      res.end();
    });
    const outer = Router();
    outer.use('/inner', inner);
    app.use('/outer', outer);
    const routes = walkRoutes(app);
    expect(routes).toEqual([
      { method: 'GET', path: '/outer/inner/marked', policy: 'authenticated' },
      { method: 'POST', path: '/outer/inner/forgotten', policy: undefined },
    ]);
  });
});
