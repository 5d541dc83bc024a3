import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_REMIND_PARTNER,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';
import { startSmtp } from './smtp';

/**
 * The embedded database (PGlite) has exactly one connection. A processor that reaches for the
 * global knex inside its deadline's transaction waits for that connection forever. A pool of
 * one on PostgreSQL reproduces it: every referral processor must finish on it.
 */
describe('referral processors on a single database connection', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({
      clock: fixedClock('2026-11-24T10:00:00+01:00'),
      env: { SMTP_URL: smtp.url, DB_POOL_MAX: '1' },
    });
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  it('when the partner email, the reminder and the escalation run, then each finishes done', async () => {
    const w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const referral = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(referral.status).toBe(201);

    for (const kind of [
      REFERRAL_EMAIL_PARTNER,
      REFERRAL_REMIND_PARTNER,
      REFERRAL_ESCALATE_REQUESTER,
    ]) {
      const deadline = await testKnex()('deadlines')
        .where({ subject_id: referral.body.id, kind })
        .orderBy('due_at')
        .first('id');
      expect(await processDeadline(ctx.deps, processors, kind, deadline.id)).toBe('done');
    }
    expect(await smtp.waitFor(2)).toHaveLength(2);
  });
});
