import crypto from 'node:crypto';
import request from 'supertest';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import {
  createFoodBank,
  createPerson,
  giveConsent,
  refer,
  referralWorld,
  type Agent,
} from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

/**
 * Security items 8 and 9, generated: every referral, consent and partner endpoint × every kind of
 * caller, with two users per role where scope matters (the requester and another worker, two
 * users of the addressed partner, a partner user of another organisation, staff of another
 * structure). Policy first (401, 403), then scope (404): an object outside the caller's scope is
 * not found, and a refused call changes nothing.
 */
const ACTORS = [
  'worker',
  'worker2',
  'manager',
  'partner',
  'partner2',
  'outsider',
  'observer',
  'admin',
  'foreignWorker',
  'foreignManager',
  'anonymous',
] as const;
type ActorName = (typeof ACTORS)[number];

/**
 * A fresh person of the world's structure, with a consent for the food bank and a requested
 * referral; and a fresh partner with one service ("Colis alimentaires") for the directory edits.
 */
interface Fixture {
  personId: string;
  consentId: string;
  referralId: string;
  partnerId: string;
  serviceId: string;
}

interface Endpoint {
  name: string;
  call: (agent: Agent | ReturnType<typeof request>, f: Fixture, w: World) => request.Test;
  /** The status each caller gets; callers not listed get `otherwise`. */
  expect: Partial<Record<ActorName, number>> & { otherwise: number };
  /** What must not have changed when the call was refused. */
  unchanged?: (f: Fixture) => Promise<void>;
}

const staff = (ok: number) => ({
  worker: ok,
  worker2: ok,
  manager: ok,
  foreignWorker: 404,
  foreignManager: 404,
  anonymous: 401,
  otherwise: 403,
});

const statusOf = async (id: string) =>
  (await testKnex()('referrals').where({ id }).first('status')).status as string;

const servicesOf = (partnerId: string) =>
  testKnex()('partner_services').where({ partner_id: partnerId }).orderBy('name').pluck('name');

const admin = (ok: number) => ({ admin: ok, anonymous: 401, otherwise: 403 });

const ENDPOINTS: Endpoint[] = [
  {
    name: 'GET /api/persons/:id/consents',
    call: (a, f) => a.get(`/api/persons/${f.personId}/consents`),
    expect: staff(200),
  },
  {
    name: 'POST /api/persons/:id/consents',
    call: (a, f, w) =>
      a.post(`/api/persons/${f.personId}/consents`).send({
        purpose: 'referral',
        partnerId: w.other.id,
        method: 'oral',
        givenAt: '2026-11-01T10:00:00Z',
      }),
    expect: staff(201),
    unchanged: async (f) =>
      expect(await testKnex()('consents').where({ person_id: f.personId })).toHaveLength(1),
  },
  {
    name: 'POST /api/consents/:id/revoke',
    call: (a, f) => a.post(`/api/consents/${f.consentId}/revoke`),
    expect: staff(200),
    unchanged: async (f) => {
      expect(
        (await testKnex()('consents').where({ id: f.consentId }).first()).revoked_at,
      ).toBeNull();
      expect(await statusOf(f.referralId)).toBe('requested');
    },
  },
  {
    name: 'POST /api/persons/:id/referrals',
    call: (a, f, w) =>
      a.post(`/api/persons/${f.personId}/referrals`).send({
        partnerId: w.food.partner.id,
        reason: 'Besoin alimentaire',
      }),
    expect: staff(201),
    unchanged: async (f) =>
      expect(await testKnex()('referrals').where({ person_id: f.personId })).toHaveLength(1),
  },
  {
    name: 'GET /api/referrals/:id',
    call: (a, f) => a.get(`/api/referrals/${f.referralId}`),
    expect: { ...staff(200), partner: 200, partner2: 200, outsider: 404 },
  },
  {
    name: 'POST /api/referrals/:id/transitions (accept)',
    call: (a, f) => a.post(`/api/referrals/${f.referralId}/transitions`).send({ to: 'accepted' }),
    expect: { ...staff(403), partner: 200, partner2: 200, outsider: 404 },
    unchanged: async (f) => expect(await statusOf(f.referralId)).toBe('requested'),
  },
  {
    name: 'POST /api/referrals/:id/transitions (cancel)',
    call: (a, f) =>
      a
        .post(`/api/referrals/${f.referralId}/transitions`)
        .send({ to: 'cancelled', reason: 'La personne a déménagé' }),
    // The requester or a manager cancels; another worker of the structure may not.
    expect: { ...staff(200), worker2: 403, partner: 403, partner2: 403, outsider: 404 },
    unchanged: async (f) => expect(await statusOf(f.referralId)).toBe('requested'),
  },
  {
    name: 'POST /api/referrals/:id/resend-link',
    call: (a, f) => a.post(`/api/referrals/${f.referralId}/resend-link`),
    // The requester or a manager sends the partner a fresh link; partner users have no say.
    expect: { ...staff(202), worker2: 403 },
    unchanged: async (f) =>
      expect(
        await testKnex()('audit_events').where({
          subject_id: f.referralId,
          action: 'referral.resend_link',
        }),
      ).toHaveLength(0),
  },
  {
    name: 'GET /api/partners',
    call: (a) => a.get('/api/partners'),
    // The directory is shared by every structure and holds no person data.
    expect: { ...staff(200), foreignWorker: 200, foreignManager: 200, admin: 200 },
  },
  {
    name: 'GET /api/partners/:id',
    call: (a, _f, w) => a.get(`/api/partners/${w.food.partner.id}`),
    expect: { ...staff(200), foreignWorker: 200, foreignManager: 200, admin: 200 },
  },
  {
    name: 'POST /api/partners',
    call: (a) =>
      a
        .post('/api/partners')
        .send({ name: `Épicerie ${Math.random()}`, email: 'e@x.test', services: [] }),
    expect: admin(201),
  },
  {
    name: 'POST /api/partners/:id/review',
    call: (a, _f, w) => a.post(`/api/partners/${w.food.partner.id}/review`),
    expect: admin(200),
  },
  {
    name: 'PUT /api/partners/:id',
    call: (a, f) =>
      a.put(`/api/partners/${f.partnerId}`).send({ name: 'Épicerie modifiée', email: 'e@x.test' }),
    expect: admin(200),
    unchanged: async (f) => {
      const row = await testKnex()('partners').where({ id: f.partnerId }).first('name');
      expect(row.name).not.toBe('Épicerie modifiée');
    },
  },
  {
    name: 'DELETE /api/partners/:id/pending-email',
    call: (a, f) => a.delete(`/api/partners/${f.partnerId}/pending-email`),
    expect: admin(200),
    unchanged: async (f) =>
      expect(
        await testKnex()('partner_email_changes')
          .where({ partner_id: f.partnerId })
          .whereNull('revoked_at'),
      ).toHaveLength(1),
  },
  {
    name: 'POST /api/partners/:id/services',
    call: (a, f) =>
      a
        .post(`/api/partners/${f.partnerId}/services`)
        .send({ name: 'Épicerie solidaire', themes: ['equipement-et-alimentation'] }),
    expect: admin(201),
    unchanged: async (f) => expect(await servicesOf(f.partnerId)).toEqual(['Colis alimentaires']),
  },
  {
    name: 'PUT /api/partners/:id/services/:serviceId',
    call: (a, f) =>
      a
        .put(`/api/partners/${f.partnerId}/services/${f.serviceId}`)
        .send({ name: 'Colis d’urgence', themes: ['equipement-et-alimentation'] }),
    expect: admin(200),
    unchanged: async (f) => expect(await servicesOf(f.partnerId)).toEqual(['Colis alimentaires']),
  },
];

const cases = ENDPOINTS.flatMap((e) =>
  ACTORS.map((actor) => ({
    endpoint: e.name,
    actor,
    status: e.expect[actor] ?? e.expect.otherwise,
  })),
);

describe('role × endpoint × owner matrix of referrals, consents and partners', () => {
  let ctx: TestContext;
  let w: World;
  let agents: Record<Exclude<ActorName, 'anonymous'>, Agent>;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    const foreign = await referralWorld(ctx.app);
    agents = {
      ...w.agents,
      foreignWorker: foreign.agents.worker,
      foreignManager: foreign.agents.manager,
    };
  });
  afterAll(async () => ctx.close());

  async function fixture(): Promise<Fixture> {
    const personId = (await createPerson(w.agents.worker)).id;
    const consentId = (await giveConsent(w.agents.worker, personId, w.food.partner.id)).id;
    const res = await refer(w.agents.worker, personId, w.food.partner.id);
    expect(res.status).toBe(201);
    const bank = await createFoodBank(`Épicerie ${Math.random()}`);
    // A new address waiting for confirmation, which only the owner's admin may withdraw.
    await testKnex()('partner_email_changes').insert({
      partner_id: bank.partner.id,
      structure_id: w.team.structure.id,
      new_email: 'nouvelle@epicerie.test',
      token_hash: crypto.randomBytes(32).toString('hex'),
      expires_at: new Date(Date.now() + 48 * 3600 * 1000),
      created_at: new Date(),
    });
    return {
      personId,
      consentId,
      referralId: res.body.id,
      partnerId: bank.partner.id,
      serviceId: bank.service.id,
    };
  }

  it.each(cases)('$endpoint as $actor → $status', async ({ endpoint, actor, status }) => {
    const e = ENDPOINTS.find((x) => x.name === endpoint)!;
    const f = await fixture();
    const agent = actor === 'anonymous' ? request(ctx.app) : agents[actor];
    const res = await e.call(agent, f, w);
    expect(res.status).toBe(status);
    if (status >= 400) {
      expect(res.body.error.code).toEqual(expect.any(String));
      // A refusal tells nothing about the person.
      expect(JSON.stringify(res.body)).not.toMatch(/Nadia|Benali|06 12|Besoin alimentaire/);
      await e.unchanged?.(f);
    }
  });

  it.each([
    ['worker', 1],
    ['worker2', 1],
    ['manager', 1],
    ['partner', 1],
    ['partner2', 1],
    ['outsider', 0],
    ['foreignWorker', 0],
    ['foreignManager', 0],
  ] as const)(
    'GET /api/referrals as %s lists only what is in scope (%i of the new referral)',
    async (actor, seen) => {
      const f = await fixture();
      const res = await agents[actor].get('/api/referrals?pageSize=100');
      expect(res.status).toBe(200);
      const ids = res.body.items.map((r: { id: string }) => r.id);
      expect(ids.filter((id: string) => id === f.referralId)).toHaveLength(seen);
    },
  );

  it.each(['observer', 'admin', 'anonymous'] as const)(
    'GET /api/referrals as %s is refused',
    async (actor) => {
      const agent = actor === 'anonymous' ? request(ctx.app) : agents[actor];
      expect((await agent.get('/api/referrals')).status).toBe(actor === 'anonymous' ? 401 : 403);
    },
  );
});
