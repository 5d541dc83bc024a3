import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import request from 'supertest';
import { fixedClock } from '../../../server/lib/clock';
import { totpCode } from '../../../server/features/two-factor/totp';
import { createTestContext, type TestContext } from '../../setup/context';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

type Operation = {
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses: Record<string, { content?: unknown }>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: object };

/**
 * The second factor's and the API tokens' endpoints as the OpenAPI document says them, checked
 * against real answers; and fuzzed like every write endpoint: never a 5xx.
 */
describe('two-factor and API token endpoints: document and fuzzing', () => {
  const clock = fixedClock('2026-11-24T10:00:00+01:00');
  let ctx: TestContext;
  let doc: Doc;
  let ajv: Ajv2020;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    doc = (await request(ctx.app).get('/api/docs').expect(200)).body;
    ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ ...doc, $id: 'api' });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => ctx.close());

  const pointer = (path: string, method: string, status: string) =>
    `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;
  const check = (path: string, method: string, res: request.Response) => {
    const status = String(res.status);
    expect(doc.paths[path]?.[method]?.responses[status]?.content).toBeDefined();
    const v = ajv.compile({ $ref: `api#${pointer(path, method, status)}` });
    expect(v(JSON.parse(JSON.stringify(res.body))) ? null : ajv.errorsText(v.errors)).toBeNull();
  };

  it('documents the token and two-factor endpoints with their bodies, and Bearer on the referral endpoints only', () => {
    for (const [path, method] of [
      ['/api/tokens', 'post'],
      ['/api/me/two-factor/confirm', 'post'],
      ['/api/me/two-factor/disable', 'post'],
      ['/api/me/two-factor/recovery-codes', 'post'],
      ['/api/session', 'post'],
    ])
      expect(doc.paths[path][method].requestBody).toBeDefined();
    const tokenRoutes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, o]) => o.security?.some((s) => 'bearer' in s))
        .map(([method]) => `${method} ${path}`),
    );
    expect(tokenRoutes.sort()).toEqual([
      'get /api/referrals',
      'get /api/referrals/{id}',
      'post /api/referrals/{id}/transitions',
    ]);
    expect(JSON.stringify(doc.components)).toContain('"scheme":"bearer"');
  });

  it('answers what the document says: tokens, the second factor, and the referrals read with a token', async () => {
    const partner = w.agents.partner;
    const created = await partner.post('/api/tokens').send({ name: 'Logiciel' });
    check('/api/tokens', 'post', created);
    check('/api/tokens', 'get', await partner.get('/api/tokens'));

    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const referral = (await refer(w.agents.worker, person.id, w.food.partner.id)).body;
    const bearer = { Authorization: `Bearer ${created.body.token}` };
    check('/api/referrals', 'get', await request(ctx.app).get('/api/referrals').set(bearer));
    check(
      '/api/referrals/{id}',
      'get',
      await request(ctx.app).get(`/api/referrals/${referral.id}`).set(bearer),
    );
    check(
      '/api/referrals/{id}/transitions',
      'post',
      await request(ctx.app)
        .post(`/api/referrals/${referral.id}/transitions`)
        .set(bearer)
        .send({ to: 'accepted' }),
    );

    const manager = w.agents.manager;
    check('/api/me/two-factor', 'get', await manager.get('/api/me/two-factor'));
    const start = await manager.post('/api/me/two-factor');
    check('/api/me/two-factor', 'post', start);
    const confirmed = await manager
      .post('/api/me/two-factor/confirm')
      .send({ code: totpCode(start.body.secret, clock.now()) });
    check('/api/me/two-factor/confirm', 'post', confirmed);
    check('/api/me/two-factor', 'get', await manager.get('/api/me/two-factor'));
    check(
      '/api/me/two-factor/recovery-codes',
      'post',
      await manager
        .post('/api/me/two-factor/recovery-codes')
        .send({ code: confirmed.body.recoveryCodes[0] }),
    );
    check(
      '/api/users/{id}/two-factor/reset',
      'post',
      await w.agents.admin.post(`/api/users/${w.team.manager.id}/two-factor/reset`),
    );
  });

  /** Arbitrary JSON bodies over these field names: never a 5xx, a 400 names what failed. */
  async function neverFails(
    send: (body: unknown) => Promise<request.Response>,
    fields: string[],
  ): Promise<void> {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\uD800', '123456', 'x'.repeat(5000), 1e308),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.dictionary(fc.constantFrom(...fields, 'unknown', '__proto__'), value, {
            maxKeys: fields.length + 1,
          }),
        ),
        async (body) => {
          const res = await send(body);
          if (res.status >= 500)
            throw new Error(`${res.status} for ${JSON.stringify(body).slice(0, 200)}`);
          if (res.status === 400)
            expect(['validation_failed', 'invalid_json']).toContain(res.body.error.code);
        },
      ),
      { numRuns: 40 },
    );
  }
  const json = (agent: typeof w.agents.partner, path: string) => (body: unknown) =>
    agent.post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));

  it('POST /api/tokens never answers 5xx', async () => {
    await neverFails(json(w.agents.partner2, '/api/tokens'), ['name', 'expiresInDays']);
  });

  it.each([
    '/api/me/two-factor/confirm',
    '/api/me/two-factor/disable',
    '/api/me/two-factor/recovery-codes',
  ])('POST %s never answers 5xx', async (path) => {
    await w.agents.worker.post('/api/me/two-factor');
    await neverFails(json(w.agents.worker, path), ['code']);
  });

  it('POST /api/session with a totp never answers 5xx', async () => {
    await neverFails(
      (body) =>
        request(ctx.app)
          .post('/api/session')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body)),
      ['email', 'password', 'totp'],
    );
  });

  it('arbitrary Authorization headers never answer 5xx: 401 or 429', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
          fc.string({ minLength: 43, maxLength: 43 }).map((s) => `Bearer av_${s}`),
        ),
        async (header) => {
          const safe = header.replace(/[^\t\x20-\x7e]/g, '');
          const res = await request(ctx.app)
            .get('/api/referrals')
            .set('X-Forwarded-For', '198.51.100.7')
            .set('Authorization', safe);
          expect([401, 429]).toContain(res.status);
        },
      ),
      { numRuns: 60 },
    );
  });
});
