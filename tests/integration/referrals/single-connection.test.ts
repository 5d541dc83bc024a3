import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
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

  const run = async (referralId: string, kind: string) => {
    const deadline = await testKnex()('deadlines')
      .where({ subject_id: referralId, kind })
      .orderBy('due_at')
      .first('id');
    return processDeadline(ctx.deps, processors, kind, deadline.id);
  };

  async function newReferral() {
    const w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const referral = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(referral.status).toBe(201);
    return { w, id: referral.body.id as string };
  }

  it('when the partner email, the reminder and the escalation run, then each finishes done', async () => {
    const { id } = await newReferral();
    const before = smtp.received.length;
    for (const kind of [
      REFERRAL_EMAIL_PARTNER,
      REFERRAL_REMIND_PARTNER,
      REFERRAL_ESCALATE_REQUESTER,
    ]) {
      expect(await run(id, kind)).toBe('done');
    }
    expect(await smtp.waitFor(before + 2)).toHaveLength(before + 2);
  });

  it("when the outcome question and the referent's follow-up run after an acceptance, then each finishes done", async () => {
    const { w, id } = await newReferral();
    const accepted = await w.agents.partner
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'accepted' });
    expect(accepted.status).toBe(200);
    const before = smtp.received.length;
    expect(await run(id, REFERRAL_ASK_OUTCOME)).toBe('done');
    expect(await run(id, REFERRAL_OUTCOME_FOLLOW_UP)).toBe('done');
    expect(await smtp.waitFor(before + 1)).toHaveLength(before + 1);
    expect(
      await testKnex()('referral_follow_ups').where({ referral_id: id, purpose: 'update_right' }),
    ).toHaveLength(1);
  });

  it("when a referral expires unanswered, then the expiry finishes done and plans its 'Réorienter' follow-up", async () => {
    const { id } = await newReferral();
    expect(await run(id, REFERRAL_EXPIRE)).toBe('done');
    expect((await testKnex()('referrals').where({ id }).first('status')).status).toBe('expired');
    expect(
      await testKnex()('referral_follow_ups').where({ referral_id: id, purpose: 'reorient' }),
    ).toHaveLength(1);
  });
});
