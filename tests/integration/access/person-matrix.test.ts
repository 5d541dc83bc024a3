import request from 'supertest';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, referralWorld, type Agent } from '../referrals/helpers';
import { inYears } from '../../setup/dates';

type World = Awaited<ReturnType<typeof referralWorld>>;

/**
 * Security item 8, generated: every person, contact, follow-up and right endpoint (every path of
 * the OpenAPI document under /api/persons and /api/follow-ups: a new one fails the coverage test
 * until it is in the matrix) × every kind of caller. Policy first (401, 403), then scope (404):
 * another structure's person is not found, a list never shows it, and a refused call changes
 * nothing (row counts and versions read from the database before and after).
 */
const ACTORS = [
  'referent',
  'worker2',
  'manager',
  'observer',
  'admin',
  'partner',
  'foreignWorker',
  'foreignManager',
  'token',
  'anonymous',
] as const;
type ActorName = (typeof ACTORS)[number];

/** A person of the world's structure (the référent worker's), with what hangs on it. */
interface Fixture {
  personId: string;
  version: number;
  /** A second person of the structure, for the merge. */
  otherId: string;
  otherVersion: number;
  followUpId: string;
}

type Caller = Agent | ReturnType<typeof request>;

interface Endpoint {
  /** `METHOD /api/path/{param}`, as the OpenAPI document names it. */
  name: string;
  /** `w` is the fixture's world; `own` the caller's (another structure's for foreign staff). */
  call: (a: Caller, f: Fixture, w: World, own: World) => request.Test;
  /** The status each caller gets; callers not listed get `otherwise`. */
  expect: Partial<Record<ActorName, number>> & { otherwise: number };
  /** For a list: whether the answer shows the fixture's person (it must not out of scope). */
  shows?: (body: unknown, f: Fixture) => boolean;
}

/** The person's own staff: the structure's workers and managers; another structure's: 404. */
const staff = (ok: number) => ({
  referent: ok,
  worker2: ok,
  manager: ok,
  foreignWorker: 404,
  foreignManager: 404,
  anonymous: 401,
  otherwise: 403,
});
/** Managers only: a worker is refused by policy, another structure's manager finds nothing. */
const managers = (ok: number) => ({
  manager: ok,
  foreignManager: 404,
  anonymous: 401,
  otherwise: 403,
});
/** A list or a creation of the caller's own structure: every worker and manager gets it. */
const ownStructure = (ok: number) => ({
  ...staff(ok),
  foreignWorker: ok,
  foreignManager: ok,
});

const itemIds = (body: unknown) =>
  ((body as { items?: { id: string; personId?: string }[] }).items ?? []).flatMap((i) => [
    i.id,
    i.personId,
  ]);

const contact = {
  occurredAt: '2026-11-02T09:00:00Z',
  channel: 'phone',
  outcome: 'not_reached',
};

const ENDPOINTS: Endpoint[] = [
  {
    name: 'GET /api/persons',
    call: (a) => a.get('/api/persons?q=Benali&pageSize=100'),
    expect: ownStructure(200),
    shows: (b, f) => itemIds(b).includes(f.personId),
  },
  {
    name: 'POST /api/persons',
    call: (a) => a.post('/api/persons').send({ alias: 'Nouvelle personne', source: 'outreach' }),
    expect: ownStructure(201),
  },
  {
    name: 'GET /api/persons/duplicates',
    call: (a) => a.get('/api/persons/duplicates?firstName=Nadia&lastName=Benali'),
    expect: ownStructure(200),
    shows: (b, f) => JSON.stringify(b).includes(f.personId),
  },
  {
    name: 'GET /api/persons/{id}',
    call: (a, f) => a.get(`/api/persons/${f.personId}`),
    expect: staff(200),
  },
  {
    name: 'PATCH /api/persons/{id}',
    call: (a, f) =>
      a.patch(`/api/persons/${f.personId}`).send({ version: f.version, alias: 'Nad' }),
    expect: staff(200),
  },
  {
    name: 'POST /api/persons/{id}/merge',
    call: (a, f) =>
      a
        .post(`/api/persons/${f.otherId}/merge`)
        .send({ intoId: f.personId, version: f.otherVersion, intoVersion: f.version }),
    expect: managers(200),
  },
  {
    name: 'GET /api/persons/{id}/timeline',
    call: (a, f) => a.get(`/api/persons/${f.personId}/timeline`),
    expect: staff(200),
  },
  {
    name: 'GET /api/persons/{id}/export',
    call: (a, f) => a.get(`/api/persons/${f.personId}/export`),
    expect: managers(200),
  },
  {
    name: 'POST /api/persons/{id}/letters',
    call: (a, f) =>
      a.post(`/api/persons/${f.personId}/letters`).send({ kind: 'call', phone: '02 41 00 00 00' }),
    expect: staff(201),
  },
  {
    name: 'GET /api/persons/{id}/contacts',
    call: (a, f) => a.get(`/api/persons/${f.personId}/contacts`),
    expect: staff(200),
  },
  {
    name: 'POST /api/persons/{id}/contacts',
    call: (a, f) => a.post(`/api/persons/${f.personId}/contacts`).send(contact),
    expect: staff(201),
  },
  {
    name: 'POST /api/persons/{id}/follow-ups',
    call: (a, f) =>
      a
        .post(`/api/persons/${f.personId}/follow-ups`)
        .send({ title: 'Rappeler', dueAt: inYears(4, '01-07T09:00:00Z') }),
    expect: staff(201),
  },
  {
    name: 'GET /api/persons/{id}/rights',
    call: (a, f) => a.get(`/api/persons/${f.personId}/rights`),
    expect: staff(200),
  },
  {
    name: 'PUT /api/persons/{id}/rights/{code}',
    call: (a, f) =>
      a
        .put(`/api/persons/${f.personId}/rights/rsa`)
        .send({ status: 'not_claimed', reason: 'non_knowledge' }),
    expect: staff(200),
  },
  {
    name: 'GET /api/persons/{id}/consents',
    call: (a, f) => a.get(`/api/persons/${f.personId}/consents`),
    expect: staff(200),
  },
  {
    name: 'POST /api/persons/{id}/consents',
    call: (a, f, w) =>
      a.post(`/api/persons/${f.personId}/consents`).send({
        purpose: 'referral',
        partnerId: w.other.id,
        method: 'oral',
        givenAt: '2026-11-01T10:00:00Z',
      }),
    expect: staff(201),
  },
  {
    name: 'POST /api/persons/{id}/referrals',
    call: (a, f, w) =>
      a
        .post(`/api/persons/${f.personId}/referrals`)
        .send({ partnerId: w.food.partner.id, reason: 'Besoin alimentaire' }),
    expect: staff(201),
  },
  {
    name: 'GET /api/follow-ups',
    call: (a, f) => a.get(`/api/follow-ups?personId=${f.personId}`),
    expect: { ...ownStructure(200) },
    shows: (b, f) => itemIds(b).includes(f.followUpId),
  },
  {
    name: 'PATCH /api/follow-ups/{id}',
    call: (a, f) => a.patch(`/api/follow-ups/${f.followUpId}`).send({ status: 'done' }),
    // The assignee or a manager; another worker of the structure may not.
    expect: { ...staff(200), worker2: 403 },
  },
  {
    name: 'POST /api/follow-ups/reassign',
    // To a worker of the caller's own structure: only the follow-up is out of scope.
    call: (a, f, _w, own) =>
      a
        .post('/api/follow-ups/reassign')
        .send({ ids: [f.followUpId], toAssigneeId: own.team.worker2.id }),
    expect: managers(200),
  },
];

/** What a refused call must leave as it was: the fixture's rows and the structure's counts. */
async function snapshot(f: Fixture, w: World) {
  const k = testKnex();
  const persons = [f.personId, f.otherId];
  const count = async (table: string, column = 'person_id') =>
    Number((await k(table).whereIn(column, persons).count({ n: '*' }))[0].n);
  return {
    persons: await k('persons')
      .whereIn('id', persons)
      .orderBy('id')
      .select('id', 'version', 'alias', 'referent_id', 'closed_at'),
    inStructure: Number(
      (await k('persons').where({ structure_id: w.team.structure.id }).count({ n: '*' }))[0].n,
    ),
    followUp: await k('follow_ups')
      .where({ id: f.followUpId })
      .first('version', 'status', 'assignee_id', 'due_at'),
    contacts: await count('contacts'),
    followUps: await count('follow_ups'),
    rights: await count('person_rights'),
    consents: await count('consents'),
    referrals: await count('referrals'),
  };
}

const cases = ENDPOINTS.flatMap((e) =>
  ACTORS.map((actor) => ({
    endpoint: e.name,
    actor,
    status: e.expect[actor] ?? e.expect.otherwise,
  })),
);

describe('role × endpoint × owner matrix of persons, contacts, follow-ups and rights', () => {
  let ctx: TestContext;
  let w: World;
  let foreign: World;
  let agents: Record<Exclude<ActorName, 'anonymous' | 'token'>, Agent>;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    foreign = await referralWorld(ctx.app);
    agents = {
      referent: w.agents.worker,
      worker2: w.agents.worker2,
      manager: w.agents.manager,
      observer: w.agents.observer,
      admin: w.agents.admin,
      partner: w.agents.partner,
      foreignWorker: foreign.agents.worker,
      foreignManager: foreign.agents.manager,
    };
    // The partner's system: a token acting as its partner user.
    const created = await w.agents.partner.post('/api/tokens').send({ name: 'Logiciel' });
    expect(created.status).toBe(201);
    token = created.body.token;
  });
  afterAll(async () => ctx.close());

  async function fixture(): Promise<Fixture> {
    const referent = w.agents.worker;
    const person = (await createPerson(referent)) as { id: string; version: number };
    await giveConsent(referent, person.id, w.food.partner.id);
    const other = (await createPerson(referent, { firstName: 'Nadia', lastName: 'Benaly' })) as {
      id: string;
      version: number;
    };
    const followUp = await referent
      .post(`/api/persons/${person.id}/follow-ups`)
      .send({ title: 'Premier rappel', dueAt: inYears(4, '01-06T09:00:00Z') });
    expect(followUp.status).toBe(201);
    const row = await testKnex()('persons').where({ id: person.id }).first('version');
    return {
      personId: person.id,
      version: row.version,
      otherId: other.id,
      otherVersion: other.version,
      followUpId: followUp.body.id,
    };
  }

  const callerOf = (actor: ActorName): Caller =>
    actor === 'anonymous' || actor === 'token' ? request(ctx.app) : agents[actor];

  it('covers every endpoint of the OpenAPI document under /api/persons and /api/follow-ups', async () => {
    const doc = (await request(ctx.app).get('/api/docs')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => /^\/api\/(persons|follow-ups)(\/|$)/.test(p))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented.length).toBeGreaterThanOrEqual(ENDPOINTS.length);
    expect(documented).toEqual(ENDPOINTS.map((e) => e.name).sort());
  });

  it.each(cases)('$endpoint as $actor → $status', async ({ endpoint, actor, status }) => {
    const e = ENDPOINTS.find((x) => x.name === endpoint)!;
    const f = await fixture();
    const before = await snapshot(f, w);
    let call = e.call(callerOf(actor), f, w, actor.startsWith('foreign') ? foreign : w);
    if (actor === 'token') call = call.set('Authorization', `Bearer ${token}`);
    const res = await call;
    expect(res.status).toBe(status);
    if (status >= 400) {
      expect(res.body.error.code).toEqual(expect.any(String));
      // A token acts as its partner user, whose role none of these routes admits.
      if (actor === 'token') expect(res.body.error.code).toBe('forbidden');
      // A refusal tells nothing about the person, and changes nothing.
      expect(JSON.stringify(res.body)).not.toMatch(/Nadia|Benali|06 12|Lilas|confidentielle/);
      expect(await snapshot(f, w)).toEqual(before);
    } else if (e.shows) {
      // A list of another structure never shows the person; the structure's own staff see it.
      expect(e.shows(res.body, f)).toBe(!actor.startsWith('foreign'));
    }
  });
});
