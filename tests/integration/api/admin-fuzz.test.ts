import fc from 'fast-check';
import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { anyValueOf, writeFuzzer } from './fuzz-helpers';
import type { Agent } from './helpers';

/**
 * Property-based fuzzing of the users, teams, districts, settings and password endpoints: whatever JSON
 * arrives, never a 5xx, and a 400 always says validation_failed or invalid_json.
 */
const RUNS = 40;

const anyValue = anyValueOf(
  [
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
    'Monplaisir',
    '490070101',
  ],
  [3, 10],
  [
    fc.array(fc.constantFrom('5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f', 'x', 1), { maxLength: 3 }),
    fc.record({ start: fc.constantFrom('08:30', '18:00', 'x'), end: fc.constantFrom('17:00', '') }),
  ],
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

  const check = writeFuzzer(() => admin, anyValue, RUNS);

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

  it('POST and PATCH /api/districts never answer 5xx', async () => {
    const district = (await admin.post('/api/districts').send({ name: 'Justices' }).expect(201))
      .body;
    // A name of the fuzz's values taken before it runs (a creation the fuzz itself could make):
    // some creations meet it, and some renames below at the current version land on it.
    await admin.post('/api/districts').send({ name: 'Monplaisir' }).expect(201);
    await check('post', '/api/districts', ['name', 'code', 'qpv']);
    const current = async () =>
      (await admin.get('/api/districts?archived=true')).body.items.find(
        (d: { id: string }) => d.id === district.id,
      ).version;
    await check(
      'patch',
      `/api/districts/${district.id}`,
      ['name', 'code', 'qpv', 'archived', 'version'],
      { complete: async (body) => ({ ...body, version: await current() }) },
    );
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
