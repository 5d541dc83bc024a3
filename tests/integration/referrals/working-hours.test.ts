import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { DIGEST_EMAIL, NOTIFY_DIGEST } from '../../../server/features/deadlines/rule-kinds';
import { REFERRAL_REMIND_PARTNER } from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';
import { startSmtp } from './smtp';

describe('referral deadlines follow the business calendar', () => {
  // Saturday 28 November 2026, 15:00 in Paris.
  const SATURDAY = '2026-11-28T15:00:00+01:00';
  const clock = fixedClock(SATURDAY);
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    w = await referralWorld(ctx.app);
  });
  afterEach(() => clock.set(SATURDAY));
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

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

  it('when a partner reminder due Friday 16:00 is processed Friday 21:00, then it sends nothing and is due Monday 08:30, where it sends once', async () => {
    // Referred on Tuesday 16:00: the reminder of business day 3 is due Friday 27 at 16:00.
    clock.set('2026-11-24T16:00:00+01:00');
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const res = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(res.status).toBe(201);
    const reminders = () =>
      testKnex()('deadlines')
        .where({ subject_id: res.body.id, kind: REFERRAL_REMIND_PARTNER })
        .orderBy('created_at');
    const [friday] = await reminders();
    expect(new Date(friday.due_at).toISOString()).toBe(
      new Date('2026-11-27T16:00:00+01:00').toISOString(),
    );
    const before = smtp.received.length;

    // The delivery runs late (an SMTP outage, a worker stopped): Friday 21:00 in Paris.
    clock.set('2026-11-27T21:00:00+01:00');
    expect(await processDeadline(ctx.deps, processors, REFERRAL_REMIND_PARTNER, friday.id)).toBe(
      'skipped',
    );
    expect(smtp.received).toHaveLength(before);
    expect(await testKnex()('sent_emails').where({ deadline_id: friday.id })).toHaveLength(0);
    const monday = new Date('2026-11-30T08:30:00+01:00').toISOString();
    const pending = (await reminders()).filter((d) => d.status === 'pending');
    // Monday 08:30, and the reminder of day 5 where it was.
    expect(pending.map((d) => new Date(d.due_at).toISOString()).sort()).toEqual([
      monday,
      new Date('2026-12-01T16:00:00+01:00').toISOString(),
    ]);
    const moved = pending.find((d) => new Date(d.due_at).toISOString() === monday)!;
    expect((await testKnex()('deadlines').where({ id: friday.id }).first()).last_error).toBe(
      `outside working hours: moved to ${monday} (deadline ${moved.id})`,
    );

    clock.set('2026-11-30T08:30:00+01:00');
    expect(await processDeadline(ctx.deps, processors, REFERRAL_REMIND_PARTNER, moved.id)).toBe(
      'done',
    );
    const received = await smtp.waitFor(before + 1);
    expect(received).toHaveLength(before + 1);
    expect(received[received.length - 1].to).toEqual([w.food.partner.email]);
    // Delivered twice (a redelivery), it still sends once.
    expect(await processDeadline(ctx.deps, processors, REFERRAL_REMIND_PARTNER, moved.id)).toBe(
      'not_pending',
    );
    expect(await testKnex()('sent_emails').where({ deadline_id: moved.id })).toHaveLength(1);
    expect(smtp.received).toHaveLength(before + 1);
  });

  it('when a digest email runs late in the evening, then a partner user’s is skipped and a worker’s still leaves', async () => {
    const dueAt = new Date('2026-11-30T08:30:00+01:00');
    const digestEmailFor = async (user: { id: string }) => {
      await ctx.deps.knex.transaction((trx) =>
        ctx.deps.services.notifications.notifyInTransaction(trx, {
          structureId: w.team.structure.id,
          recipientId: user.id,
          kind: NOTIFY_DIGEST,
          subjectType: 'user',
          subjectId: user.id,
          dueMoment: dueAt,
          title: 'Votre point du jour du lundi 30 novembre',
          body: '1 demande d’orientation en attente de votre réponse',
          link: '/',
        }),
      );
      const [row] = await testKnex()('deadlines')
        .insert({
          structure_id: w.team.structure.id,
          kind: DIGEST_EMAIL,
          subject_type: 'user',
          subject_id: user.id,
          due_at: dueAt,
        })
        .returning('id');
      return row.id as string;
    };
    const partnerDigest = await digestEmailFor(w.users.p1);
    const workerDigest = await digestEmailFor(w.team.worker);
    const before = smtp.received.length;

    clock.set('2026-11-30T19:00:00+01:00');
    expect(await processDeadline(ctx.deps, processors, DIGEST_EMAIL, partnerDigest)).toBe(
      'skipped',
    );
    expect((await testKnex()('deadlines').where({ id: partnerDigest }).first()).last_error).toBe(
      'outside working hours: the next digest tells the same',
    );
    expect(await processDeadline(ctx.deps, processors, DIGEST_EMAIL, workerDigest)).toBe('done');
    const received = await smtp.waitFor(before + 1);
    expect(received.slice(before).map((e) => e.to[0])).toEqual([w.team.worker.email]);
  });
});
