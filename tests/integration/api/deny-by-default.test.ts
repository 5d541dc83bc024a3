import express, { Router, type Express } from 'express';
import { isAuthenticated, isPublic } from '../../../server/auth/policies';
import { sameOriginForStateChanges } from '../../../server/http/same-origin';
import { LINK_PATH_PREFIX } from '../../../server/features/referrals/referral-link-tokens';
import { csrf } from '../../../server/web/page-context';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { walkRoutes, type FoundRoute } from '../../setup/routes';
import { testKnex } from '../../setup/db';
import { inYears } from '../../setup/dates';
import { createTeam } from '../../setup/factories';

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
    const routes = walkRoutes(app).map(({ method, path, policy }) => ({ method, path, policy }));
    expect(routes).toEqual([
      { method: 'GET', path: '/outer/inner/marked', policy: 'authenticated' },
      { method: 'POST', path: '/outer/inner/forgotten', policy: undefined },
    ]);
  });
});

/** A public form without a session (the report form) is guarded by the same-origin check. */
const sameOriginPublic = (r: FoundRoute) =>
  r.policy === 'public' &&
  r.handlers.some((h) => (h as { csrfDefence?: string }).csrfDefence === 'same-origin');

/** Web routes that change state without the synchronizer token: none may exist. */
function webWritesWithoutCsrf(app: Express): string[] {
  return walkRoutes(app)
    .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
    .filter((r) => r.path !== '/api' && !r.path.startsWith('/api/'))
    .filter((r) => !r.path.startsWith(LINK_PATH_PREFIX))
    .filter((r) => !sameOriginPublic(r))
    .filter((r) => !r.handlers.includes(csrf.csrfSynchronisedProtection))
    .map((r) => `${r.method} ${r.path}`);
}

describe('CSRF by default: every web form route checks the synchronizer token', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  it('finds the CSRF check on every non-GET route outside /api and the signed-link answers', () => {
    const writes = walkRoutes(ctx.app).filter(
      (r) => r.method === 'POST' && !r.path.startsWith('/api'),
    );
    // The walk sees the web forms (a walk that found nothing would pass for nothing).
    expect(writes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/connexion', '/personnes/:id/contacts', '/admin/partenaires']),
    );
    expect(webWritesWithoutCsrf(ctx.app)).toEqual([]);
  });

  it('would fail on a web form route without the CSRF check', () => {
    const app = express();
    app.post('/personnes/:id/oubli', isAuthenticated(), (_req, res) => {
      res.end();
    });
    app.post('/personnes/:id/garde', isAuthenticated(), csrf.csrfSynchronisedProtection);
    app.post(`${LINK_PATH_PREFIX}:token`, isAuthenticated(), (_req, res) => {
      res.end();
    });
    // The same-origin check stands for the token on a public form only, never a signed-in one.
    const origin = sameOriginForStateChanges('http://127.0.0.1:3000');
    app.post('/signaler/:slug', isPublic(), origin, (_req, res) => {
      res.end();
    });
    app.post('/personnes/:id/origine', isAuthenticated(), origin, (_req, res) => {
      res.end();
    });
    expect(webWritesWithoutCsrf(app)).toEqual([
      'POST /personnes/:id/oubli',
      'POST /personnes/:id/origine',
    ]);
  });

  it('refuses forms posted without their token: nothing is written', async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const admin = await loginAs(ctx.app, team.admin.email);
    const person = (
      await worker.post('/api/persons').send({ alias: 'Sans jeton', source: 'outreach' })
    ).body;
    const followUp = (
      await worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ title: 'Appeler', dueAt: new Date(Date.now() + 3600_000).toISOString() })
    ).body;
    const attempts: [Awaited<ReturnType<typeof loginAs>>, string, Record<string, string>][] = [
      [
        worker,
        `/personnes/${person.id}/contacts`,
        { channel: 'phone', outcome: 'reached', occurredAt: '2026-11-20T10:00' },
      ],
      [
        worker,
        `/personnes/${person.id}/suivis`,
        { title: 'Relancer', dueAt: inYears(4, '01-07T10:00') },
      ],
      [worker, `/suivis/${followUp.id}`, { action: 'terminer', retour: '/' }],
      [
        worker,
        `/personnes/${person.id}/modifier`,
        { alias: 'Renommée', source: 'outreach', version: String(person.version) },
      ],
      [
        admin,
        '/admin/partenaires',
        { name: 'Sans jeton', email: 'x@partner.test', serviceName: 'S', themes: 'famille' },
      ],
      [worker, '/deconnexion', {}],
    ];
    for (const [agent, path, form] of attempts) {
      const res = await agent.post(path).type('form').send(form);
      expect(`${path} ${res.status}`).toBe(`${path} 403`);
      expect(res.text).toContain('Formulaire expiré');
    }
    expect(await testKnex()('contacts').where({ person_id: person.id })).toHaveLength(0);
    expect(await testKnex()('follow_ups').where({ person_id: person.id })).toHaveLength(1);
    expect((await testKnex()('follow_ups').where({ id: followUp.id }).first()).status).toBe('open');
    expect((await testKnex()('persons').where({ id: person.id }).first()).alias).toBe('Sans jeton');
    expect(await testKnex()('partners').where({ name: 'Sans jeton' })).toHaveLength(0);
    // The session survived the refused logout.
    expect((await worker.get('/api/me')).status).toBe(200);
  });
});
