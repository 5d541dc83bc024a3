import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_EMAIL_WITHDRAWN,
  REFERRAL_RESEND_LINK,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { frDateTime } from '../../../server/lib/email-text';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, emailFor, giveConsent, refer, referralWorld } from './helpers';
import { startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** What the person's file holds and the referral shared: none of it may reach the partner now. */
const PERSON_DATA = [
  'Nadia',
  'Benali',
  '06 12 34 56 78',
  'nadia@example.test',
  'Lilas',
  'confidentielle',
  'Besoin alimentaire',
  'Famille de trois',
  'Doublon',
];

/**
 * A partner who accepted a referral (a volunteer calling the person) must learn when it is
 * withdrawn, by the requester or a manager or by the person's consent revoked: its users in the
 * app, its address by email, naming the structure and never the person.
 */
describe('the partner is told when a referral is withdrawn', () => {
  const clock = fixedClock('2026-12-01T09:00:00Z'); // a Tuesday, 10:00 in Paris
  let ctx: TestContext;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let w: World;

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  /** A referral the partner was emailed about and accepted, with the consent it rests on. */
  async function acceptedReferral() {
    const person = await createPerson(w.agents.worker);
    const consent = await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const referral = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(referral.status).toBe(201);
    const id = referral.body.id as string;
    await emailFor(ctx, smtp, id, REFERRAL_EMAIL_PARTNER);
    const accepted = await w.agents.partner
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'accepted' });
    expect(accepted.status).toBe(200);
    return { id, consentId: consent.id };
  }

  async function expectPartnerTold(id: string) {
    const notices = await testKnex()('notifications').where({
      subject_id: id,
      kind: 'referral.cancelled',
    });
    expect(notices.map((n) => n.recipient_id as string).sort()).toEqual(
      [w.users.p1.id, w.users.p2.id].sort(),
    );
    for (const n of notices) {
      expect(n.title).toContain(w.team.structure.name);
      for (const secret of PERSON_DATA) expect(`${n.title} ${n.body}`).not.toContain(secret);
    }

    const pending = await testKnex()('deadlines').where({
      subject_id: id,
      kind: REFERRAL_EMAIL_WITHDRAWN,
      status: 'pending',
    });
    expect(pending).toHaveLength(1);
    const email = await emailFor(ctx, smtp, id, REFERRAL_EMAIL_WITHDRAWN);
    expect(email.to).toEqual([w.food.partner.email]);
    expect(email.subject).toContain('retirée');
    expect(email.subject).toContain(w.team.structure.name);
    expect(email.text).toContain('ne doivent plus être utilisées');
    for (const secret of PERSON_DATA) expect(email.text + email.html).not.toContain(secret);

    // Delivered again (a redelivered job): no second email.
    const before = smtp.received.length;
    expect(
      await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_WITHDRAWN, pending[0].id),
    ).not.toBe('done');
    expect(smtp.received).toHaveLength(before);
  }

  it('when the person’s consent is revoked while the partner has accepted, then the partner’s users are told in the app and its address gets one email, without the person’s data', async () => {
    const { id, consentId } = await acceptedReferral();
    const revoked = await w.agents.worker.post(`/api/consents/${consentId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.cancelledReferralIds).toEqual([id]);
    await expectPartnerTold(id);
    // The partner no longer sees it: the notice leads nowhere.
    const notices = await testKnex()('notifications').where({
      subject_id: id,
      kind: 'referral.cancelled',
    });
    expect(notices.map((n) => n.link)).toEqual([null, null]);
  });

  it('when a manager cancels an accepted referral, then the partner’s users are told in the app and its address gets one email, without the person’s data', async () => {
    const { id } = await acceptedReferral();
    const cancelled = await w.agents.manager
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'cancelled', reason: 'Doublon' });
    expect(cancelled.status).toBe(200);
    await expectPartnerTold(id);
  });

  it('when one of two referrals from the structure is cancelled, then the partner’s notice names its service and the day it was asked, and links to it', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const first = await refer(w.agents.worker, person.id, w.food.partner.id, {
      serviceId: w.food.service.id,
    });
    expect(first.status).toBe(201);
    clock.advance(2 * 3600_000);
    const second = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(second.status).toBe(201);
    const id = first.body.id as string;
    const cancelled = await w.agents.worker
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'cancelled', reason: 'Doublon' });
    expect(cancelled.status).toBe(200);

    const notices = await testKnex()('notifications').where({
      subject_id: id,
      kind: 'referral.cancelled',
    });
    expect(notices).toHaveLength(2);
    const asked = frDateTime(new Date(first.body.createdAt as string));
    expect(asked).not.toEqual(frDateTime(new Date(second.body.createdAt as string)));
    for (const n of notices) {
      expect(n.title).toContain(w.team.structure.name);
      expect(n.title).toContain('« Colis alimentaires »');
      expect(n.title).toContain(asked);
      expect(n.link).toBe(`/orientations/${id}`);
    }
    expect(
      await testKnex()('notifications').where({
        subject_id: second.body.id,
        kind: 'referral.cancelled',
      }),
    ).toHaveLength(0);
  });

  it('when a referral is cancelled before its first email went, then the partner’s users are told in the app and no email goes to an address that never heard of it', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    const cancelled = await w.agents.worker
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'cancelled', reason: 'Doublon' });
    expect(cancelled.status).toBe(200);
    expect(
      await testKnex()('notifications').where({ subject_id: id, kind: 'referral.cancelled' }),
    ).toHaveLength(2);
    const [withdrawn] = await testKnex()('deadlines').where({
      subject_id: id,
      kind: REFERRAL_EMAIL_WITHDRAWN,
    });
    const before = smtp.received.length;
    expect(
      await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_WITHDRAWN, withdrawn.id),
    ).toBe('skipped');
    expect(smtp.received).toHaveLength(before);
  });

  it('when the partner heard of a referral only through a link sent again, then its withdrawal is emailed to it', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    expect((await w.agents.worker.post(`/api/referrals/${id}/resend-link`)).status).toBe(202);
    await emailFor(ctx, smtp, id, REFERRAL_RESEND_LINK);
    const cancelled = await w.agents.worker
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'cancelled', reason: 'Doublon' });
    expect(cancelled.status).toBe(200);
    const [withdrawn] = await testKnex()('deadlines').where({
      subject_id: id,
      kind: REFERRAL_EMAIL_WITHDRAWN,
    });
    expect(
      await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_WITHDRAWN, withdrawn.id),
    ).toBe('done');
  });
});
