import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  LINK_PATH_PREFIX,
  linkTokenFor,
} from '../../../server/features/referrals/referral-link-tokens';
import { REFERRAL_EMAIL_PARTNER } from '../../../server/features/referrals/referral-schemas';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { fixedClock } from '../../../server/lib/clock';
import { csrfOf } from '../../e2e/html';
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
    // The partner's pending emails go with the referrals; only the notice of the withdrawal
    // waits (withdrawal-notice.test.ts).
    const deadlines = await testKnex()('deadlines')
      .whereIn('subject_id', [pending, accepted])
      .andWhere({ status: 'pending' })
      .pluck('kind');
    expect(deadlines).toEqual(['referral.email_withdrawn', 'referral.email_withdrawn']);
    expect((await w.agents.worker.get(`/api/persons/${person.id}`)).body.status).not.toBe(
      'supported',
    );
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(422);
    expect((await w.agents.worker.post(`/api/consents/${consent.id}/revoke`)).status).toBe(409);
  });

  describe('revocation acts on the person × partner pair', () => {
    /** A person with an older consent A and a newer consent B for the food bank, one referral under each. */
    async function twoConsents() {
      const person = await createPerson(w.agents.worker);
      const a = await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
        givenAt: '2026-11-01T10:00:00+01:00',
      });
      const r1 = (await refer(w.agents.worker, person.id, w.food.partner.id)).body;
      const b = await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
        givenAt: '2026-11-10T10:00:00+01:00',
      });
      const r2 = (await refer(w.agents.worker, person.id, w.food.partner.id)).body;
      // Each referral records the newest valid consent at its creation.
      expect(r1.consentId).toBe(a.id);
      expect(r2.consentId).toBe(b.id);
      return { person, a, b, r1: r1.id as string, r2: r2.id as string };
    }

    it.each(['newer', 'older'] as const)(
      'when the %s of two valid consents for one partner is revoked, then both are revoked, every open referral of the pair is cancelled and the partner sees none',
      async (which) => {
        const { person, a, b, r1, r2 } = await twoConsents();
        expect((await w.agents.partner.get(`/api/referrals/${r1}`)).status).toBe(200);

        const revoked = await w.agents.worker.post(
          `/api/consents/${(which === 'newer' ? b : a).id}/revoke`,
        );
        expect(revoked.status).toBe(200);
        expect(revoked.body.cancelledReferralIds.sort()).toEqual([r1, r2].sort());
        expect(revoked.body.revokedConsentIds.sort()).toEqual([a.id, b.id].sort());

        for (const id of [r1, r2]) {
          const r = await w.agents.worker.get(`/api/referrals/${id}`);
          expect(r.body.status).toBe('cancelled');
          expect(r.body.statusReasonCode).toBe('consent_revoked');
          expect((await w.agents.partner.get(`/api/referrals/${id}`)).status).toBe(404);
        }
        const inbox = (await w.agents.partner.get('/api/referrals')).body.items.map(
          (r: { id: string }) => r.id,
        );
        expect(inbox).not.toContain(r1);
        expect(inbox).not.toContain(r2);

        const list = await w.agents.worker.get(`/api/persons/${person.id}/consents`);
        expect(
          list.body.items.map((c: { id: string; valid: boolean; revokedAt: string | null }) => [
            c.id,
            c.valid,
            Boolean(c.revokedAt),
          ]),
        ).toEqual(
          expect.arrayContaining([
            [a.id, false, true],
            [b.id, false, true],
          ]),
        );
        const again = await refer(w.agents.worker, person.id, w.food.partner.id);
        expect(again.status).toBe(422);
        expect(again.body.error.code).toBe('consent_revoked');
        // Both are revoked now: revoking the other one is a conflict, not a second cancellation.
        expect(
          (await w.agents.worker.post(`/api/consents/${(which === 'newer' ? a : b).id}/revoke`))
            .status,
        ).toBe(409);
      },
    );

    it('when the consent for another partner is revoked, then the food bank referrals stay open', async () => {
      const { person, r1, r2 } = await twoConsents();
      const garden = await giveConsent(w.agents.worker, person.id, w.other.id);
      const res = await w.agents.worker.post(`/api/consents/${garden.id}/revoke`);
      expect(res.status).toBe(200);
      expect(res.body.cancelledReferralIds).toEqual([]);
      expect(res.body.revokedConsentIds).toEqual([garden.id]);
      for (const id of [r1, r2])
        expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('requested');
    });

    it.each([
      ['in_progress', [['accepted'], ['in_progress']]],
      ['on_hold', [['accepted'], ['on_hold', 'En attente de pièces']]],
    ] as const)(
      'when the consent is revoked while the referral is %s, then it is cancelled with consent_revoked and its outcome question is cancelled',
      async (status, path) => {
        const person = await createPerson(w.agents.worker);
        const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
        const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
        for (const [to, reason] of path as readonly (readonly string[])[]) {
          const res = await w.agents.partner
            .post(`/api/referrals/${id}/transitions`)
            .send(reason ? { to, reason } : { to });
          expect(res.status).toBe(200);
        }
        expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe(status);

        const revoked = await w.agents.worker.post(`/api/consents/${consent.id}/revoke`);
        expect(revoked.body.cancelledReferralIds).toEqual([id]);
        const r = await w.agents.worker.get(`/api/referrals/${id}`);
        expect(r.body.status).toBe('cancelled');
        expect(r.body.events.at(-1)).toMatchObject({
          fromStatus: status,
          toStatus: 'cancelled',
          reasonCode: 'consent_revoked',
          actorId: w.team.worker.id,
        });
        // The outcome question goes; only the partner's notice of the withdrawal waits.
        const pending = await testKnex()('deadlines')
          .where({ subject_id: id, status: 'pending' })
          .pluck('kind');
        expect(pending).toEqual(['referral.email_withdrawn']);
      },
    );

    it('when the partner moves a referral while its consent is revoked, then both finish (no deadlock) and the referral ends cancelled', async () => {
      for (let round = 0; round < 6; round += 1) {
        const person = await createPerson(w.agents.worker);
        const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
        const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
        const [moved, revoked] = await Promise.all([
          w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' }),
          w.agents.worker.post(`/api/consents/${consent.id}/revoke`),
        ]);
        expect(revoked.status).toBe(200);
        // Accepted first, then cancelled by the revocation; or out of the partner's scope (404).
        expect([200, 404]).toContain(moved.status);
        const r = await w.agents.worker.get(`/api/referrals/${id}`);
        expect(r.body).toMatchObject({ status: 'cancelled', statusReasonCode: 'consent_revoked' });
      }
    });

    it('when a referral is created while its consent is revoked, then no referral of the pair stays open', async () => {
      for (let round = 0; round < 4; round += 1) {
        const person = await createPerson(w.agents.worker);
        const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
        const [created, revoked] = await Promise.all([
          refer(w.agents.worker, person.id, w.food.partner.id),
          w.agents.worker.post(`/api/consents/${consent.id}/revoke`),
        ]);
        expect(revoked.status).toBe(200);
        expect([201, 422]).toContain(created.status);
        const open = await testKnex()('referrals')
          .where({ person_id: person.id })
          .whereNot({ status: 'cancelled' });
        expect(open).toEqual([]);
      }
    });
  });

  describe("an expired consent withdraws the partner's view until it is renewed", () => {
    afterEach(() => clock.set('2026-11-24T10:00:00+01:00'));

    /** A referral under a consent that expires on Wednesday 25 November at 10:00, and its email deadline. */
    async function expiringReferral(sharedFields: string[]) {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
        expiresAt: '2026-11-25T10:00:00+01:00',
        sharedFields,
      });
      const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
      const deadline = await testKnex()('deadlines')
        .where({ subject_id: id, kind: REFERRAL_EMAIL_PARTNER })
        .first();
      return { person, id, deadline: deadline as { id: string } };
    }

    it('when the consent passes its expiry, then the partner sees no referral nor contact detail of the person, its link and emails stop, and the referral waits on the staff side', async () => {
      const { person, id, deadline } = await expiringReferral(['phone', 'email', 'address']);
      const before = await w.agents.partner.get(`/api/referrals/${id}`);
      expect(before.status).toBe(200);
      expect(before.body.person.phone).toBe('06 12 34 56 78');

      // One minute before the expiry the view stands; one minute after, it is gone.
      clock.set('2026-11-25T09:59:00+01:00');
      expect((await w.agents.partner.get(`/api/referrals/${id}`)).status).toBe(200);
      clock.set('2026-11-25T10:01:00+01:00');
      const after = await w.agents.partner.get(`/api/referrals/${id}`);
      expect(after.status).toBe(404);
      expect(JSON.stringify(after.body)).not.toMatch(/06 12|nadia@|Lilas|Nadia/);
      const inbox = await w.agents.partner.get('/api/referrals');
      expect(inbox.body.items.map((r: { id: string }) => r.id)).not.toContain(id);
      expect(JSON.stringify(inbox.body)).not.toContain(person.id);
      const move = await w.agents.partner
        .post(`/api/referrals/${id}/transitions`)
        .send({ to: 'accepted' });
      expect(move.status).toBe(404);

      // The partner email due now is skipped: its link would open on nothing.
      expect(await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, deadline.id)).toBe(
        'skipped',
      );
      expect(await testKnex()('sent_emails').where({ deadline_id: deadline.id })).toHaveLength(0);

      // The referral itself stays open for the referring structure, which may renew the consent.
      const staff = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(staff.body.status).toBe('requested');
    });

    it('when a link was sent before the consent expired, then after the expiry it is refused (410) and the referral does not move', async () => {
      const { id, deadline } = await expiringReferral(['phone']);
      expect(await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, deadline.id)).toBe(
        'done',
      );
      const path = LINK_PATH_PREFIX + linkTokenFor(ctx.config.LINK_SECRET, deadline.id, 'respond');
      expect((await request(ctx.app).get(path)).status).toBe(200);

      clock.set('2026-11-25T10:01:00+01:00');
      const page = await request(ctx.app).get(path);
      expect(page.status).toBe(410);
      expect(page.text).not.toContain('06 12 34 56 78');
      const post = await request(ctx.app).post(path).type('form').send({ action: 'accept' });
      expect(post.status).toBe(410);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('requested');
    });

    it('when consents stand, expire, are revoked and are renewed, then the inbox total counts exactly the referrals it lists, with and without a status filter', async () => {
      // The count and the page are two queries (a semi-join and a lateral look-up): they must agree.
      const expired = await expiringReferral(['phone']);
      const renewed = await expiringReferral(['phone']);
      const standing = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, standing.id, w.food.partner.id);
      const open = (await refer(w.agents.worker, standing.id, w.food.partner.id)).body.id as string;
      const taken = (await refer(w.agents.worker, standing.id, w.food.partner.id)).body
        .id as string;
      expect(
        (
          await w.agents.partner
            .post(`/api/referrals/${taken}/transitions`)
            .send({ to: 'accepted' })
        ).status,
      ).toBe(200);
      const gone = await createPerson(w.agents.worker);
      const goneConsent = await giveConsent(w.agents.worker, gone.id, w.food.partner.id);
      const revokedId = (await refer(w.agents.worker, gone.id, w.food.partner.id)).body
        .id as string;
      expect((await w.agents.worker.post(`/api/consents/${goneConsent.id}/revoke`)).status).toBe(
        200,
      );

      clock.set('2026-11-26T10:00:00+01:00');
      await giveConsent(w.agents.worker, renewed.person.id, w.food.partner.id, {
        givenAt: '2026-11-26T09:00:00+01:00',
      });
      const inbox = async (query: string) => {
        const res = await w.agents.partner.get(`/api/referrals?pageSize=100${query}`);
        expect(res.status).toBe(200);
        const ids = res.body.items.map((r: { id: string }) => r.id) as string[];
        expect(res.body.total).toBe(ids.length);
        return ids;
      };
      const all = await inbox('');
      expect(all).toEqual(expect.arrayContaining([renewed.id, open, taken]));
      expect(all).not.toContain(expired.id);
      expect(all).not.toContain(revokedId);
      const requested = await inbox('&status=requested');
      expect(requested).toEqual(expect.arrayContaining([renewed.id, open]));
      expect(requested).not.toContain(taken);
      expect(requested).not.toContain(expired.id);
      expect(await inbox('&status=accepted')).toContain(taken);
      expect(await inbox('&status=cancelled')).not.toContain(revokedId);
    });

    it('when the person renews the expired consent, then the partner sees the referral again with what the new consent shares', async () => {
      const { person, id } = await expiringReferral(['phone']);
      clock.set('2026-11-26T10:00:00+01:00');
      expect((await w.agents.partner.get(`/api/referrals/${id}`)).status).toBe(404);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
        givenAt: '2026-11-26T09:00:00+01:00',
        sharedFields: ['email'],
      });
      const res = await w.agents.partner.get(`/api/referrals/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.person).toEqual({ displayName: 'Nadia Benali', email: 'nadia@example.test' });
      expect(
        (await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' }))
          .status,
      ).toBe(200);
    });
  });

  /** Spec §2: a consent has an optional expiry, recorded from the person's page as by the API. */
  describe('the consent form records an expiry', () => {
    async function postConsentForm(personId: string, form: Record<string, string>) {
      const page = await w.agents.worker.get(`/personnes/${personId}/orientations`);
      expect(page.text).toContain('id="consent-expiresAt"');
      return w.agents.worker
        .post(`/personnes/${personId}/consentements`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), partnerId: w.food.partner.id, method: 'oral', ...form });
    }
    const consentsOf = (personId: string) => testKnex()('consents').where({ person_id: personId });

    it('when the form gives an expiry, then the consent is stored with it and listed until then', async () => {
      const person = await createPerson(w.agents.worker);
      const res = await postConsentForm(person.id, {
        givenAt: '2026-11-24T09:00',
        expiresAt: '2027-05-31T18:00',
      });
      expect(res.status).toBe(303);
      const [stored] = await consentsOf(person.id);
      expect(new Date(stored.expires_at).toISOString()).toBe('2027-05-31T16:00:00.000Z');
      const page = await w.agents.worker.get(`/personnes/${person.id}/orientations`);
      // It ends at the minute typed, not at the end of that day.
      expect(page.text).toContain('jusqu’au 31 mai 2027 à 18:00');
    });

    it('when the expiry has already passed, then the form says so by the expiry field and records nothing', async () => {
      const person = await createPerson(w.agents.worker);
      const res = await postConsentForm(person.id, {
        givenAt: '2026-11-01T10:00',
        expiresAt: '2026-11-20T10:00',
      });
      expect(res.status).toBe(422);
      expect(res.text).toContain('id="consent-expiresAt-error"');
      expect(res.text).toContain('Cette date de fin est déjà passée');
      expect(res.text).toContain('value="2026-11-20T10:00"');
      expect(res.text).not.toContain('id="referral-partnerId-error"');
      expect(await consentsOf(person.id)).toHaveLength(0);
    });

    it('when the expiry comes before the consent was given, or is no date, then 400 by the expiry field and nothing recorded', async () => {
      const person = await createPerson(w.agents.worker);
      const before = await postConsentForm(person.id, {
        givenAt: '2026-11-24T09:00',
        expiresAt: '2026-11-23T09:00',
      });
      expect(before.status).toBe(400);
      expect(before.text).toContain('id="consent-expiresAt-error"');
      expect(before.text).toContain(
        'La fin de l’accord doit venir après la date à laquelle il a été donné',
      );
      const invalid = await postConsentForm(person.id, {
        givenAt: '2026-11-24T09:00',
        expiresAt: '2027-02-30T10:00',
      });
      expect(invalid.status).toBe(400);
      expect(invalid.text).toContain('Indiquez la date et l’heure de fin de l’accord');
      expect(invalid.text).toContain('value="2027-02-30T10:00"');
      expect(await consentsOf(person.id)).toHaveLength(0);
    });
  });
});
