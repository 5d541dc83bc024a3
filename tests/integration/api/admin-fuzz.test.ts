import fc from 'fast-check';
import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import type { Agent } from './helpers';

/**
 * Property-based fuzzing of the users, teams, settings and password endpoints: whatever JSON
 * arrives, never a 5xx, and a 400 always says validation_failed or invalid_json.
 */
const RUNS = 40;

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\uD800',
    'worker',
    'manager',
    'partner',
    'admin',
    'x@y.test',
    '08:30',
    '24:00',
    '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f',
    '00000000-0000-0000-0000-000000000000',
    'A'.repeat(43),
    "'; drop table users; --",
    'x'.repeat(20000),
  ),
  fc.constantFrom(0, -1, 1, 1.5, 3, 10, 2147483647, 2147483648, 1e308),
  fc.array(fc.constantFrom('5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f', 'x', 1), { maxLength: 3 }),
  fc.record({ start: fc.constantFrom('08:30', '18:00', 'x'), end: fc.constantFrom('17:00', '') }),
  fc.boolean(),
  fc.constant(null),
);

const bodyOf = (fields: string[]) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 4,
      arbitrary: fc.dictionary(
        fc.constantFrom(...fields, 'unknown', '__proto__', 'constructor'),
        anyValue,
        { maxKeys: fields.length + 1 },
      ),
    },
  );

describe('fuzzing the admin endpoints', () => {
  let ctx: TestContext;
  let admin: Agent;
  let s: Awaited<ReturnType<typeof createTeam>>;
  let teamId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    s = await createTeam();
    admin = await loginAs(ctx.app, s.admin.email);
    teamId = (await admin.post('/api/teams').send({ name: 'Accueil' }).expect(201)).body.id;
  });
  afterAll(async () => ctx.close());

  const check = async (
    method: 'post' | 'patch',
    path: string,
    fields: string[],
    opts: {
      agent?: () => Agent | ReturnType<typeof request>;
      complete?: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
    } = {},
  ) => {
    await fc.assert(
      fc.asyncProperty(bodyOf(fields), fc.boolean(), async (generated, complete) => {
        const isObject =
          generated !== null && typeof generated === 'object' && !Array.isArray(generated);
        const body =
          complete && isObject && opts.complete
            ? await opts.complete(generated as Record<string, unknown>)
            : generated;
        const res = await (opts.agent?.() ?? admin)
          [method](path)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        if (res.status >= 500)
          throw new Error(
            `${res.status} for ${JSON.stringify(body).slice(0, 300)}: ${JSON.stringify(res.body)}`,
          );
        if (res.status === 400)
          expect(['validation_failed', 'invalid_json']).toContain(res.body.error.code);
      }),
      { numRuns: RUNS },
    );
  };

  it('POST /api/users never answers 5xx', async () => {
    await check('post', '/api/users', ['email', 'name', 'role', 'teamIds', 'partnerId']);
  });

  it('PATCH /api/users/:id never answers 5xx', async () => {
    await check('patch', `/api/users/${s.worker.id}`, ['name', 'role', 'teamIds', 'disabled']);
  });

  it('POST and PATCH /api/teams never answer 5xx', async () => {
    await check('post', '/api/teams', ['name', 'memberIds', 'managerIds']);
    await check('patch', `/api/teams/${teamId}`, ['name', 'memberIds', 'managerIds']);
  });

  it('PATCH /api/settings never answers 5xx', async () => {
    await check(
      'patch',
      '/api/settings',
      [
        'version',
        'followUpReminderDays',
        'followUpEscalationDays',
        'referralResponseDays',
        'referralExpiryDays',
        'noContactDays',
        'digestTime',
        'workingHours',
        'smallCountThreshold',
        'retentionMonths',
      ],
      {
        complete: async (body) => ({
          ...body,
          version: (await admin.get('/api/settings')).body.version,
        }),
      },
    );
  });

  it('the public password endpoints never answer 5xx', async () => {
    await check('post', '/api/password-reset', ['email'], { agent: () => request(ctx.app) });
    await check('post', '/api/password-links/use', ['token', 'password'], {
      agent: () => request(ctx.app),
    });
  });
});
