import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { deadlineJobId } from '../../../jobs/queues';
import { processors } from '../../../jobs/registry';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_OUTCOME_FOLLOW_UP,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { up as addMissingSiblings } from '../../../migrations/20261201111500_insert-referral-outcome-follow-up-deadlines';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex, truncateAll } from '../../setup/db';
import { waitFor } from '../deadlines/helpers';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';
import { linkIn, startSilentServer, startSmtp } from './smtp';

/**
 * Closing the loop is two deadlines at one moment: the outcome question to the partner (an email,
 * whose transaction lasts as long as the SMTP send) and the referent's "update the right"
 * follow-up (which locks the person and the referral). Apart, a slow or failing SMTP server
 * neither blocks the person's file nor loses the follow-up.
 */
type World = Awaited<ReturnType<typeof referralWorld>>;
const TUESDAY = '2026-11-24T10:00:00+01:00';

interface DeadlineRow {
  id: string;
  kind: string;
  status: string;
  due_at: Date;
  attempts: number;
  enqueued_at: Date | null;
}

const deadlineOf = async (referralId: string, kind: string) =>
  (await testKnex()('deadlines').where({ subject_id: referralId, kind }).first()) as DeadlineRow;

/** A referral accepted by the partner, for a person whose referent is the second worker. */
async function acceptedReferral(w: World) {
  const person = await createPerson(w.agents.worker, { referentId: w.team.worker2.id });
  await giveConsent(w.agents.worker, person.id, w.food.partner.id);
  const created = await refer(w.agents.worker, person.id, w.food.partner.id);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const accepted = await w.agents.partner
    .post(`/api/referrals/${id}/transitions`)
    .send({ to: 'accepted' });
  expect(accepted.status).toBe(200);
  return { id, personId: person.id };
}

const updateRightFollowUps = (referralId: string) =>
  testKnex()('referral_follow_ups as rf')
    .join('follow_ups as f', 'f.id', 'rf.follow_up_id')
    .where({ 'rf.referral_id': referralId, 'rf.purpose': 'update_right' })
    .select('f.*');

describe("the referent's outcome follow-up does not depend on the outcome email", () => {
  describe('when the SMTP server refuses the outcome question until its retries run out', () => {
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let ctx: TestContext;
    let worker: DeadlineWorker | undefined;
    const clock = fixedClock(TUESDAY);
    beforeAll(async () => {
      // The starting worker reconciles every pending deadline of the database.
      await truncateAll();
      smtp = await startSmtp({ rejectFirst: Number.MAX_SAFE_INTEGER });
      ctx = await createTestContext({
        clock,
        env: { SMTP_URL: smtp.url, EMAIL_RETRY_ATTEMPTS: '2', EMAIL_RETRY_DELAY_MS: '20' },
      });
    });
    afterAll(async () => {
      await worker?.close();
      await ctx.close();
      await smtp.close();
    });

    it('then the outcome question stays pending once its retries run out and the referent still gets the follow-up, through the worker and the reconciler', async () => {
      const w = await referralWorld(ctx.app);
      const { id, personId } = await acceptedReferral(w);
      const question = await deadlineOf(id, REFERRAL_ASK_OUTCOME);
      const planning = await deadlineOf(id, REFERRAL_OUTCOME_FOLLOW_UP);
      // Both were queued for day 10. Their jobs are lost (as in a Redis flush) and day 10 has
      // come: the worker's reconciler re-adds them, due now.
      for (const d of [question, planning]) await ctx.deps.queue.remove(deadlineJobId(d.id));
      clock.set(question.due_at);
      worker = await startDeadlineWorker(ctx.deps);

      // A refusal is transient: with its attempts used up the question stays pending, both
      // attempts on the row, for the reconciler to re-arm after DEADLINE_RETRY_COOLDOWN_MS.
      const exhausted = await waitFor(async () => {
        const d = await deadlineOf(id, REFERRAL_ASK_OUTCOME);
        return d.attempts === 2 ? d : undefined;
      }, 'the outcome question to use up its attempts');
      expect(exhausted.status).toBe('pending');
      expect(smtp.rejected).toBeGreaterThanOrEqual(2);
      expect(smtp.received).toHaveLength(0);
      await waitFor(
        async () => (await deadlineOf(id, REFERRAL_OUTCOME_FOLLOW_UP)).status === 'done',
        'the follow-up deadline to be done',
      );

      const followUps = await updateRightFollowUps(id);
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        person_id: personId,
        assignee_id: w.team.worker2.id,
        status: 'open',
        title: "Mettre à jour les droits : l'aide de Banque alimentaire a-t-elle abouti ?",
      });
      // Not an email: the short default schedule, not the email kinds' patient one.
      const job = await ctx.deps.queue.getJob(deadlineJobId(planning.id));
      expect(job?.opts.attempts).toBe(5);
    });
  });

  describe("when the SMTP server hangs during the outcome question's send", () => {
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    let ctx: TestContext;
    const clock = fixedClock(TUESDAY);
    beforeAll(async () => {
      smtp = await startSmtp();
      // The first connection hangs after accepting; the next ones reach the real server.
      silent = await startSilentServer({ silentConnections: 1, upstreamPort: smtp.port });
      // The send may take longer than a statement may wait: a write waiting on the job's locks
      // would end in a 503.
      ctx = await createTestContext({
        clock,
        env: { SMTP_URL: silent.url, SMTP_TIMEOUT_MS: '4000', DB_STATEMENT_TIMEOUT_MS: '2000' },
      });
    });
    afterAll(async () => {
      await ctx.close();
      await silent.close();
      await smtp.close();
    });

    it("then a contact logged on the person, a partner's move and the follow-up all go through meanwhile, and the retry sends the question", async () => {
      const w = await referralWorld(ctx.app);
      const { id, personId } = await acceptedReferral(w);
      const question = await deadlineOf(id, REFERRAL_ASK_OUTCOME);
      const planning = await deadlineOf(id, REFERRAL_OUTCOME_FOLLOW_UP);
      clock.set(question.due_at);

      const sending = processDeadline(ctx.deps, processors, REFERRAL_ASK_OUTCOME, question.id);
      sending.catch(() => undefined);
      await waitFor(async () => silent.connections === 1, 'the send to reach the SMTP server');

      const contact = await w.agents.worker.post(`/api/persons/${personId}/contacts`).send({
        occurredAt: new Date(question.due_at).toISOString(),
        channel: 'phone',
        outcome: 'reached',
        summary: 'Point sur l’aide alimentaire',
      });
      expect(contact.status).toBe(201);
      const moved = await w.agents.partner
        .post(`/api/referrals/${id}/transitions`)
        .send({ to: 'in_progress' });
      expect(moved.status).toBe(200);
      expect(
        await processDeadline(ctx.deps, processors, REFERRAL_OUTCOME_FOLLOW_UP, planning.id),
      ).toBe('done');
      expect(await updateRightFollowUps(id)).toHaveLength(1);
      // All of it while the send was still waiting for the server's greeting.
      expect(silent.abandoned).toBe(0);

      await expect(sending).rejects.toThrow(/greeting|timeout/i);
      expect((await deadlineOf(id, REFERRAL_ASK_OUTCOME)).status).toBe('pending');
      expect(await testKnex()('referral_links').where({ referral_id: id })).toHaveLength(0);

      // The retry reaches the server; the outcome link works from in_progress too.
      expect(await processDeadline(ctx.deps, processors, REFERRAL_ASK_OUTCOME, question.id)).toBe(
        'done',
      );
      const [email] = await smtp.waitFor(1);
      expect((await request(ctx.app).get(linkIn(email).path)).status).toBe(200);
      expect(await updateRightFollowUps(id)).toHaveLength(1);
    });
  });

  describe('outcome questions scheduled before the follow-up had a deadline of its own', () => {
    let ctx: TestContext;
    const clock = fixedClock(TUESDAY);
    beforeAll(async () => {
      ctx = await createTestContext({ clock });
    });
    afterAll(async () => ctx.close());

    it('when the data migration runs, then each open referral whose question waits or failed gets its follow-up deadline at the same moment, once', async () => {
      const w = await referralWorld(ctx.app);
      const waiting = await acceptedReferral(w);
      const failed = await acceptedReferral(w);
      const current = await acceptedReferral(w);
      const closed = await acceptedReferral(w);
      expect(
        (
          await w.agents.partner
            .post(`/api/referrals/${closed.id}/transitions`)
            .send({ to: 'completed' })
        ).status,
      ).toBe(200);
      // What the outbox held before the change: the question alone.
      for (const r of [waiting, failed, closed]) {
        await testKnex()('deadlines')
          .where({ subject_id: r.id, kind: REFERRAL_OUTCOME_FOLLOW_UP })
          .del();
      }
      await testKnex()('deadlines')
        .where({ subject_id: failed.id, kind: REFERRAL_ASK_OUTCOME })
        .update({ status: 'failed', attempts: 10 });
      const before = await deadlineOf(current.id, REFERRAL_OUTCOME_FOLLOW_UP);

      await addMissingSiblings(testKnex());
      await addMissingSiblings(testKnex());

      for (const r of [waiting, failed]) {
        const siblings = await testKnex()('deadlines').where({
          subject_id: r.id,
          kind: REFERRAL_OUTCOME_FOLLOW_UP,
        });
        expect(siblings).toHaveLength(1);
        expect(siblings[0]).toMatchObject({ status: 'pending', enqueued_at: null });
        expect(new Date(siblings[0].due_at).toISOString()).toBe(
          new Date((await deadlineOf(r.id, REFERRAL_ASK_OUTCOME)).due_at).toISOString(),
        );
      }
      expect(
        await testKnex()('deadlines').where({
          subject_id: current.id,
          kind: REFERRAL_OUTCOME_FOLLOW_UP,
        }),
      ).toEqual([expect.objectContaining({ id: before.id })]);
      expect(
        await testKnex()('deadlines').where({
          subject_id: closed.id,
          kind: REFERRAL_OUTCOME_FOLLOW_UP,
        }),
      ).toHaveLength(0);

      // The relay picks them up like any deadline written while Redis was away; each plans one.
      await ctx.deps.relay.relayPending();
      for (const r of [waiting, failed]) {
        const sibling = await deadlineOf(r.id, REFERRAL_OUTCOME_FOLLOW_UP);
        expect(sibling.enqueued_at).not.toBeNull();
        expect(await ctx.deps.queue.getJob(deadlineJobId(sibling.id))).toBeDefined();
        clock.set(sibling.due_at);
        expect(
          await processDeadline(ctx.deps, processors, REFERRAL_OUTCOME_FOLLOW_UP, sibling.id),
        ).toBe('done');
        expect(await updateRightFollowUps(r.id)).toHaveLength(1);
      }
    });
  });
});
