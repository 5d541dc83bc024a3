import fc from 'fast-check';
import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import type { Actor } from '../../../server/auth/actor';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { anyValueOf, writeFuzzer } from './fuzz-helpers';
import { createPerson, type Agent } from './helpers';
import { inYears } from '../../setup/dates';

/**
 * Property-based fuzzing of every write endpoint: whatever JSON arrives, never a 5xx, and a 400
 * always says validation_failed or invalid_json with a message.
 */
const RUNS = 60;

/** Values that sometimes fit a field and often do not. */
const anyValue = anyValueOf(
  [
    '2026-11-20T10:00:00+01:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59+14:00',
    '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f',
    '00000000-0000-0000-0000-000000000000',
    'me',
    'outreach',
    'street',
    'reached',
    'done',
    'cancelled',
    '%',
    "'; drop table persons; --",
  ],
  [1970, 1e12, -1e12, Number.MAX_SAFE_INTEGER],
);

describe('fuzzing the write endpoints', () => {
  let ctx: TestContext;
  let worker: Agent;
  let manager: Agent;
  let personId: string;
  let followUpId: string;
  let slug: string;
  let partner: Actor;
  beforeAll(async () => {
    ctx = await createTestContext();
    const team = await createTeam();
    slug = team.structure.slug;
    const p = await createPartner(testKnex(), undefined, team.structure.id);
    const pu = await createUser(team.structure.id, 'partner', { partnerId: p.id });
    partner = {
      id: pu.id,
      structureId: team.structure.id,
      role: 'partner',
      partnerId: p.id,
      name: pu.name,
      email: pu.email,
    };
    worker = await loginAs(ctx.app, team.worker.email);
    manager = await loginAs(ctx.app, team.manager.email);
    personId = (await createPerson(worker)).id;
    followUpId = (
      await worker
        .post(`/api/persons/${personId}/follow-ups`)
        .send({ dueAt: inYears(4, '01-07T09:00:00Z'), title: 'Rappeler' })
        .expect(201)
    ).body.id;
  });
  afterAll(async () => ctx.close());

  const check = writeFuzzer(() => worker, anyValue, RUNS);

  it('POST /api/persons never answers 5xx', async () => {
    await check('post', '/api/persons', [
      'alias',
      'firstName',
      'lastName',
      'birthYear',
      'gender',
      'phone',
      'email',
      'address',
      'place',
      'districtId',
      'householdType',
      'source',
      'situation',
      'referentId',
      'pauseReminders',
    ]);
  });

  it('POST /api/persons/:id/merge never answers 5xx', async () => {
    // A fresh pair each run: half the bodies name the other file with both current versions,
    // so they merge; the rest are refused.
    let pair: { id: string; other: string } = { id: '', other: '' };
    await check(
      'post',
      async () => {
        const [a, b] = [(await createPerson(worker)).id, (await createPerson(worker)).id];
        pair = { id: a, other: b };
        return `/api/persons/${a}/merge`;
      },
      ['intoId', 'version', 'intoVersion'],
      {
        agent: () => manager,
        complete: async (body) => ({ ...body, intoId: pair.other, version: 1, intoVersion: 1 }),
      },
    );
  });

  it('PATCH /api/persons/:id never answers 5xx', async () => {
    await check(
      'patch',
      `/api/persons/${personId}`,
      [
        'version',
        'alias',
        'firstName',
        'birthYear',
        'districtId',
        'referentId',
        'situation',
        'closedReason',
        'pauseReminders',
        'source',
      ],
      {
        // Half the objects carry the current version, so they get past the version check.
        complete: async (body) => ({
          ...body,
          version: (await worker.get(`/api/persons/${personId}`)).body.version,
        }),
      },
    );
  });

  it('POST /api/persons/:id/contacts never answers 5xx', async () => {
    await check('post', `/api/persons/${personId}/contacts`, [
      'occurredAt',
      'channel',
      'outcome',
      'summary',
      'privateNote',
      'nextFollowUpAt',
      'nextFollowUpTitle',
      'allowPast',
    ]);
  });

  it('POST /api/persons/:id/follow-ups never answers 5xx', async () => {
    await check('post', `/api/persons/${personId}/follow-ups`, [
      'dueAt',
      'title',
      'assigneeId',
      'allowPast',
    ]);
  });

  it('PATCH /api/follow-ups/:id never answers 5xx', async () => {
    // A fresh open follow-up now and then, since a completed one only answers 409.
    const fresh = async () =>
      (
        await worker
          .post(`/api/persons/${personId}/follow-ups`)
          .send({ dueAt: inYears(4, '01-07T09:00:00Z'), title: 'Rappeler' })
          .expect(201)
      ).body.id as string;
    let target = followUpId;
    let calls = 0;
    await check(
      'patch',
      async () => {
        calls += 1;
        if (calls % 5 === 0) target = await fresh();
        return `/api/follow-ups/${target}`;
      },
      ['status', 'dueAt', 'assigneeId', 'title', 'version', 'allowPast'],
    );
  });

  it('POST /api/session never answers 5xx', async () => {
    await check('post', '/api/session', ['email', 'password'], {
      agent: () => request(ctx.app),
    });
  });

  it('POST /api/public/:structure/reports (no account) never answers 5xx', async () => {
    // Half the objects are complete reports: they are stored until the address's limit, then 429.
    await check(
      'post',
      `/api/public/${slug}/reports`,
      ['location', 'who', 'concern', 'reporterContact', 'website'],
      {
        agent: () => request(ctx.app),
        complete: async (body) => ({ ...body, location: 'Square Mozart', concern: 'Inquiétude' }),
      },
    );
  });

  it('POST /api/reports/:id/triage never answers 5xx', async () => {
    // A fresh report each run: half the bodies are a valid dismissal.
    await check(
      'post',
      async () => {
        const { receiptNumber } = await ctx.deps.services.reports.submitByPartner(
          partner,
          { location: 'Local associatif', who: undefined, concern: 'Famille à la rue' },
          { ip: null },
        );
        const row = await testKnex()('reports').where({ receipt_number: receiptNumber }).first();
        return `/api/reports/${row.id}/triage`;
      },
      ['action', 'personId', 'reason'],
      {
        complete: async (body) => ({
          ...body,
          action: 'dismiss',
          reason: 'Hors champ',
          personId: undefined,
        }),
      },
    );
  });

  it.each([
    ['/api/reports', ['status', 'page', 'pageSize']],
    ['/api/persons', ['q', 'status', 'district', 'referentId', 'page', 'pageSize']],
    [
      '/api/follow-ups',
      ['assignee', 'overdue', 'status', 'personId', 'dueBefore', 'page', 'pageSize'],
    ],
    ['/api/notifications', ['unread', 'page', 'pageSize']],
    ['/api/persons/duplicates', ['alias', 'firstName', 'lastName', 'place', 'birthYear', 'phone']],
  ])('GET %s with arbitrary query strings never answers 5xx', async (path, keys) => {
    const queryValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom(
        'me',
        'true',
        '%',
        '\\',
        '0001-01-01T00:00:00+14:00',
        '9999-12-31T23:59:59-12:00',
        '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f',
        '1e308',
        '-0',
        '99999999999999999999',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...keys, 'other'), queryValue, { maxKeys: 4 }),
        async (query) => {
          const res = await worker.get(path).query(query);
          if (res.status >= 500)
            throw new Error(
              `${res.status} for ${JSON.stringify(query)}: ${JSON.stringify(res.body)}`,
            );
          if (res.status === 400) expect(res.body.error.code).toBe('validation_failed');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a body nested ten thousand levels deep is refused, not a crash', async () => {
    const deep = '['.repeat(10000) + ']'.repeat(10000);
    const res = await worker
      .post('/api/persons')
      .set('Content-Type', 'application/json')
      .send(`{"alias": ${deep}, "source": "outreach"}`);
    expect(res.status).toBe(400);
  });
});
