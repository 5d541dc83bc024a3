import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { REFERRAL_EXPIRE } from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { settledOrWaiting } from '../deadlines/helpers';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

const deadlineRepository = createDeadlineRepository();

/**
 * A deadline job locks its outbox row, then the person and the referral it acts on. A user's move
 * locks the person and the referral, then cancels the referral's pending deadlines. Were the
 * cancel to wait for the job's row, the two would wait on each other and PostgreSQL would abort
 * one (a 500 for the user, or a failed job). The cancel skips a row a job holds: the job, once
 * it has the referral, sees it answered and does nothing.
 */
describe('a referral move while a deadline job of that referral is running', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-11-24T10:00:00+01:00') });
  });
  afterAll(() => ctx.close());

  it('when the partner accepts while the expiry job holds its deadline, then both finish: 200 for the partner, the job skips', async () => {
    const w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const created = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(created.status).toBe(201);
    const referralId = created.body.id as string;
    const expiry = await testKnex()('deadlines')
      .where({ subject_id: referralId, kind: REFERRAL_EXPIRE, status: 'pending' })
      .first('id');

    // The job's first steps, as processDeadline takes them: lock the outbox row...
    const job = await ctx.deps.knex.transaction();
    let accept: { status: number; body: unknown } | undefined;
    try {
      expect(await deadlineRepository.lockForProcessing(job, expiry.id)).not.toBeNull();
      // ...the partner answers meanwhile...
      const answering = w.agents.partner
        .post(`/api/referrals/${referralId}/transitions`)
        .send({ to: 'accepted' })
        .then((res) => (accept = { status: res.status, body: res.body }));
      await settledOrWaiting(() => accept !== undefined);
      // ...then the job reaches for the person and the referral.
      expect(await ctx.deps.services.referrals.expire(job, referralId)).toBe(false);
      await job.commit();
      await answering;
    } finally {
      if (!job.isCompleted()) await job.rollback();
    }

    expect(accept).toEqual(expect.objectContaining({ status: 200 }));
    const referral = await testKnex()('referrals').where({ id: referralId }).first('status');
    expect(referral.status).toBe('accepted');
    // The row the job held was left pending; its delivery finds the referral answered.
    expect(await processDeadline(ctx.deps, processors, REFERRAL_EXPIRE, expiry.id)).toBe('skipped');
    const after = await testKnex()('deadlines').where({ id: expiry.id }).first('status');
    expect(after.status).toBe('skipped');
  });
});
