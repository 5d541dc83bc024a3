import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { fixedClock } from '../../../server/lib/clock';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

describe('consent before referral, per partner', () => {
  let ctx: TestContext;
  let w: World;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => ctx.close());

  it('when no consent was recorded for the partner, then 422 with a clear message', async () => {
    const person = await createPerson(w.agents.worker);
    const res = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('consent_required');
    expect(res.body.error.message).toMatch(/consent/i);
    expect(await testKnex()('referrals').where({ person_id: person.id })).toHaveLength(0);
  });

  it('when the consent is for another partner, then 422', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.other.id);
    const res = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(res.status).toBe(422);
  });

  it('when the consent has expired, then 422 consent_expired', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
      expiresAt: '2026-11-25T10:00:00+01:00',
    });
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(201);
    clock.set('2026-11-26T10:00:00+01:00');
    try {
      const res = await refer(w.agents.worker, person.id, w.food.partner.id);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('consent_expired');
    } finally {
      clock.set('2026-11-24T10:00:00+01:00');
    }
  });

  it('when a referral consent names no partner, then 400 on partnerId', async () => {
    const person = await createPerson(w.agents.worker);
    const res = await w.agents.worker
      .post(`/api/persons/${person.id}/consents`)
      .send({ purpose: 'referral', method: 'oral', givenAt: '2026-11-01T10:00:00Z' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('partnerId');
  });

  it('when consents are recorded, then they are listed with their validity', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id, { sharedFields: ['phone'] });
    const sms = await w.agents.worker
      .post(`/api/persons/${person.id}/consents`)
      .send({ purpose: 'sms_contact', method: 'written', givenAt: '2026-11-01T10:00:00Z' });
    expect(sms.status).toBe(201);
    const list = await w.agents.worker.get(`/api/persons/${person.id}/consents`);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.items.every((c: { valid: boolean }) => c.valid)).toBe(true);
  });

  it('when a worker of another structure records or revokes a consent, then 404', async () => {
    const person = await createPerson(w.agents.worker);
    const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const other = await referralWorld(ctx.app);
    const rec = await other.agents.worker.post(`/api/persons/${person.id}/consents`).send({
      purpose: 'referral',
      partnerId: w.food.partner.id,
      method: 'oral',
      givenAt: '2026-11-01T10:00:00Z',
    });
    expect(rec.status).toBe(404);
    expect((await other.agents.worker.post(`/api/consents/${consent.id}/revoke`)).status).toBe(404);
  });

  it('when the consent is revoked, then the pending referrals are cancelled and the partner loses sight of them', async () => {
    const person = await createPerson(w.agents.worker);
    const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const pending = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
    const accepted = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
    const done = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
    await w.agents.partner.post(`/api/referrals/${accepted}/transitions`).send({ to: 'accepted' });
    await w.agents.partner.post(`/api/referrals/${done}/transitions`).send({ to: 'accepted' });
    await w.agents.partner.post(`/api/referrals/${done}/transitions`).send({ to: 'completed' });
    expect((await w.agents.partner.get(`/api/referrals/${pending}`)).status).toBe(200);
    expect((await w.agents.worker.get(`/api/persons/${person.id}`)).body.status).toBe('supported');

    const revoked = await w.agents.worker.post(`/api/consents/${consent.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.valid).toBe(false);
    expect(revoked.body.cancelledReferralIds.sort()).toEqual([pending, accepted].sort());

    for (const id of [pending, accepted]) {
      const r = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(r.body.status).toBe('cancelled');
      expect(r.body.events.at(-1)).toMatchObject({
        toStatus: 'cancelled',
        reasonCode: 'consent_revoked',
      });
    }
    expect((await w.agents.worker.get(`/api/referrals/${done}`)).body.status).toBe('completed');
    for (const id of [pending, accepted, done]) {
      expect((await w.agents.partner.get(`/api/referrals/${id}`)).status).toBe(404);
      expect(
        (
          await w.agents.partner
            .post(`/api/referrals/${id}/transitions`)
            .send({ to: 'in_progress' })
        ).status,
      ).toBe(404);
    }
    const inbox = await w.agents.partner.get('/api/referrals');
    expect(inbox.body.items.map((r: { id: string }) => r.id)).not.toContain(done);
    // The partner's pending emails go with the referrals.
    const deadlines = await testKnex()('deadlines')
      .whereIn('subject_id', [pending, accepted])
      .andWhere({ status: 'pending' });
    expect(deadlines).toHaveLength(0);
    expect((await w.agents.worker.get(`/api/persons/${person.id}`)).body.status).not.toBe(
      'supported',
    );
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(422);
    expect((await w.agents.worker.post(`/api/consents/${consent.id}/revoke`)).status).toBe(409);
  });
});
