import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { REFERRAL_ESCALATE_REQUESTER } from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const TUESDAY = '2026-11-24T10:00:00+01:00';
/** Business day 5 of a referral made on TUESDAY: the escalation's due day. */
const DAY_5 = '2026-12-01T10:00:00+01:00';

describe('escalation to the requester and pauseReminders', () => {
  const clock = fixedClock(TUESDAY);
  let ctx: TestContext;
  let w: World;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
  });
  afterEach(() => clock.set(TUESDAY));
  afterAll(async () => ctx.close());

  async function newReferral(person: Record<string, unknown> = {}) {
    const p = await createPerson(w.agents.worker, person);
    await giveConsent(w.agents.worker, p.id, w.food.partner.id);
    const res = await refer(w.agents.worker, p.id, w.food.partner.id);
    expect(res.status).toBe(201);
    const escalation = await testKnex()('deadlines')
      .where({ subject_id: res.body.id, kind: REFERRAL_ESCALATE_REQUESTER })
      .first();
    return { id: res.body.id as string, personId: p.id as string, escalationId: escalation.id };
  }

  const run = (id: string) =>
    processDeadline(ctx.deps, processors, REFERRAL_ESCALATE_REQUESTER, id);
  const escalationsFor = (referralId: string) =>
    testKnex()('notifications').where({ kind: 'referral.escalated', subject_id: referralId });
  const deadline = (id: string) => testKnex()('deadlines').where({ id }).first();

  it('when reminders are paused for the person, then the escalation is skipped with the reason and the requester gets nothing', async () => {
    const { id, escalationId } = await newReferral({ pauseReminders: true });
    clock.set(DAY_5);

    expect(await run(escalationId)).toBe('skipped');

    expect(await deadline(escalationId)).toMatchObject({
      status: 'skipped',
      last_error: 'reminders paused for this person',
    });
    expect(await escalationsFor(id)).toHaveLength(0);
  });

  it('when reminders are paused after the referral was made, then the escalation is skipped too', async () => {
    const { id, personId, escalationId } = await newReferral();
    const { version } = (await w.agents.worker.get(`/api/persons/${personId}`)).body;
    const paused = await w.agents.worker
      .patch(`/api/persons/${personId}`)
      .send({ pauseReminders: true, version });
    expect(paused.status).toBe(200);
    clock.set(DAY_5);

    expect(await run(escalationId)).toBe('skipped');

    expect((await deadline(escalationId)).last_error).toBe('reminders paused for this person');
    expect(await escalationsFor(id)).toHaveLength(0);
  });

  it('when reminders are not paused, then the requester is notified once', async () => {
    const { id, escalationId } = await newReferral();
    clock.set(DAY_5);

    expect(await run(escalationId)).toBe('done');

    const notes = await escalationsFor(id);
    expect(notes).toHaveLength(1);
    expect(notes[0].recipient_id).toBe(w.team.worker.id);
  });
});
