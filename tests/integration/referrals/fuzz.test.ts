import fc from 'fast-check';
import request from 'supertest';
import { createTestContext, type TestContext } from '../../setup/context';
import {
  createPerson,
  giveConsent,
  refer,
  referralWorld,
  resetLinkRateLimit,
  type Agent,
} from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** Bodies of any shape, plus near-misses of the real ones. */
const anyBody = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      to: fc.oneof(fc.constantFrom('accepted', 'rejected', 'cancelled', 'expired'), fc.string()),
      reason: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      outcome: fc.oneof(fc.string({ maxLength: 3000 }), fc.boolean()),
      partnerId: fc.oneof(fc.uuid(), fc.string()),
      purpose: fc.oneof(fc.constantFrom('referral', 'sms_contact'), fc.string()),
      method: fc.string(),
      givenAt: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      services: fc.array(fc.jsonValue(), { maxLength: 3 }),
      name: fc.string(),
      email: fc.string(),
      themes: fc.array(fc.string(), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
);

describe('referral write endpoints under arbitrary input', () => {
  let ctx: TestContext;
  let w: World;
  let personId: string;
  let referralId: string;
  let consentPath: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker)).id;
    const consent = await giveConsent(w.agents.worker, personId, w.food.partner.id);
    consentPath = `/api/consents/${consent.id}/revoke`;
    referralId = (await refer(w.agents.worker, personId, w.food.partner.id)).body.id;
  });
  afterAll(async () => ctx.close());

  const cases: [string, () => Agent, () => string][] = [
    ['POST /api/partners (admin)', () => w.agents.admin, () => '/api/partners'],
    [
      'POST /api/persons/:id/consents',
      () => w.agents.worker,
      () => `/api/persons/${personId}/consents`,
    ],
    [
      'POST /api/persons/:id/referrals',
      () => w.agents.worker,
      () => `/api/persons/${personId}/referrals`,
    ],
    [
      'POST /api/referrals/:id/transitions (partner)',
      () => w.agents.partner,
      () => `/api/referrals/${referralId}/transitions`,
    ],
    [
      'POST /api/referrals/:id/transitions (worker)',
      () => w.agents.worker,
      () => `/api/referrals/${referralId}/transitions`,
    ],
  ];

  it.each(cases)('%s never answers 5xx', async (_name, agent, path) => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const res = await agent()
          .post(path())
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('the signed-link form never answers 5xx, whatever the token and the fields', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 50 })),
        async (token, fields) => {
          await resetLinkRateLimit(ctx);
          const res = await request(ctx.app)
            .post(`/partenaires/reponse/${encodeURIComponent(token)}`)
            .type('form')
            .send(fields);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('revoking with a body of any shape never answers 5xx', async () => {
    const res = await w.agents.worker.post(consentPath).send({ anything: [1, 2, 3] });
    expect(res.status).toBeLessThan(500);
  });
});
