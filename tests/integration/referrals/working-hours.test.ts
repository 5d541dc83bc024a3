import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

describe('referral deadlines follow the business calendar', () => {
  // Saturday 28 November 2026, 15:00 in Paris.
  const clock = fixedClock('2026-11-28T15:00:00+01:00');
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => ctx.close());

  it('when a worker refers on a Saturday, then the partner email waits for Monday 08:30 and expiry counts 10 business days', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const res = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(res.status).toBe(201);

    const rows = await testKnex()('deadlines')
      .where({ subject_type: 'referral', subject_id: res.body.id })
      .select('kind', 'due_at');
    const due = Object.fromEntries(rows.map((r) => [r.kind, new Date(r.due_at).toISOString()]));
    expect(due['referral.email_partner']).toBe(new Date('2026-11-30T08:30:00+01:00').toISOString());
    // Ten business days after Saturday 15:00: Monday 30 Nov is day 1 … Friday 11 Dec is day 10.
    expect(due['referral.expire']).toBe(new Date('2026-12-11T15:00:00+01:00').toISOString());
  });
});
