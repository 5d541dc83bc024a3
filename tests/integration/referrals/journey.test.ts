import request from 'supertest';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import { createTestContext, type TestContext } from '../../setup/context';
import { createPerson, referralWorld } from './helpers';
import { linkIn, startSmtp } from './smtp';
import { shiftedClock } from '../../../server/lib/clock';
import { REFERRAL_EMAIL_PARTNER } from '../../../server/features/referrals/referral-schemas';
import { testKnex } from '../../setup/db';
import { waitFor } from '../deadlines/helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

describe('closed-loop referral journey through the API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let worker: DeadlineWorker;
  let w: World;

  beforeAll(async () => {
    smtp = await startSmtp();
    // Partner emails leave in working hours only: the journey happens on a Tuesday morning.
    ctx = await createTestContext({
      env: { SMTP_URL: smtp.url },
      clock: shiftedClock('2026-11-24T10:00:00+01:00'),
    });
    worker = await startDeadlineWorker(ctx.deps);
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => {
    await worker.close();
    await ctx.close();
    await smtp.close();
  });

  it('consent → referral to the food bank → email with a link → partner accepts by link → requester notified → another partner gets 404', async () => {
    const person = await createPerson(w.agents.worker);

    const consent = await w.agents.worker.post(`/api/persons/${person.id}/consents`).send({
      purpose: 'referral',
      partnerId: w.food.partner.id,
      method: 'oral',
      givenAt: ctx.deps.clock.now().toISOString(),
      sharedFields: ['phone'],
    });
    expect(consent.status).toBe(201);

    const referral = await w.agents.worker.post(`/api/persons/${person.id}/referrals`).send({
      partnerId: w.food.partner.id,
      serviceId: w.food.service.id,
      reason: 'Besoin alimentaire urgent',
      sharedSummary: 'Famille de trois personnes',
    });
    expect(referral.status).toBe(201);
    expect(referral.body).toMatchObject({
      status: 'requested',
      partner: { id: w.food.partner.id },
    });
    const id = referral.body.id as string;

    const [email] = await smtp.waitFor(1);
    expect(email.to).toEqual([w.food.partner.email]);
    const link = linkIn(email);
    // The email leaves inside the job's transaction, which stores the link right after the SMTP
    // hand-off: the partner's click comes once that transaction committed.
    await waitFor(
      () =>
        testKnex()('deadlines')
          .where({ subject_id: id, kind: REFERRAL_EMAIL_PARTNER, status: 'done' })
          .first('id'),
      'the email job to commit',
    );

    const page = await request(ctx.app).get(link.path);
    expect(page.status).toBe(200);
    const answer = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
    expect(answer.status).toBe(200);

    const notifications = await w.agents.worker.get('/api/notifications?unread=true');
    const notice = notifications.body.items.find((n: { subjectId: string }) => n.subjectId === id);
    expect(notice).toMatchObject({ kind: 'referral.accepted', subjectType: 'referral' });

    const mine = await w.agents.worker.get('/api/referrals?mine=true&status=accepted');
    expect(mine.body.items.map((r: { id: string }) => r.id)).toEqual([id]);

    expect((await w.agents.outsider.get(`/api/referrals/${id}`)).status).toBe(404);
    expect((await w.agents.partner.get(`/api/referrals/${id}`)).body.status).toBe('accepted');
  });
});
