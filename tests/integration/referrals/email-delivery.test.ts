import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { deadlineJobId, DEFAULT_EMAIL_RETRY } from '../../../jobs/queues';
import { processors } from '../../../jobs/registry';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex, truncateAll } from '../../setup/db';
import { waitFor } from '../deadlines/helpers';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';
import { linkIn, startSilentServer, startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;
const TUESDAY = '2026-11-24T10:00:00+01:00';

async function newReferral(w: World): Promise<string> {
  const person = await createPerson(w.agents.worker);
  await giveConsent(w.agents.worker, person.id, w.food.partner.id);
  const res = await refer(w.agents.worker, person.id, w.food.partner.id);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const emailDeadlineOf = async (referralId: string) =>
  (await testKnex()('deadlines')
    .where({ subject_id: referralId, kind: REFERRAL_EMAIL_PARTNER })
    .first()) as { id: string; status: string; attempts: number; last_error: string | null };

const doneEmailDeadline = (referralId: string) =>
  waitFor(async () => {
    const d = await emailDeadlineOf(referralId);
    return d.status === 'done' ? d : undefined;
  }, 'the email deadline to be done');

describe('partner emails survive an SMTP outage', () => {
  // A starting worker reconciles every pending deadline of the database: each case starts from
  // empty tables, so no other case's email reaches its SMTP server.
  describe('with the default schedule', () => {
    let ctx: TestContext;
    let w: World;
    beforeAll(async () => {
      await truncateAll();
      ctx = await createTestContext({ clock: fixedClock(TUESDAY) });
      w = await referralWorld(ctx.app);
    });
    afterAll(async () => ctx.close());

    it('when a partner email is queued, then it has 10 attempts with backoff reaching hours, while other kinds keep the short default', async () => {
      const id = await newReferral(w);
      const email = await ctx.deps.queue.getJob(deadlineJobId((await emailDeadlineOf(id)).id));
      expect(email?.opts).toMatchObject({
        attempts: 10,
        backoff: { type: 'exponential', delay: 30_000 },
      });
      // Exponential: the n-th retry waits delay × 2^(n-1); the 9 retries span more than 4 hours.
      const waits = Array.from(
        { length: DEFAULT_EMAIL_RETRY.attempts - 1 },
        (_, n) => DEFAULT_EMAIL_RETRY.delayMs * 2 ** n,
      );
      expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(4 * 3600 * 1000);

      const escalation = await testKnex()('deadlines')
        .where({ subject_id: id, kind: REFERRAL_ESCALATE_REQUESTER })
        .first();
      const job = await ctx.deps.queue.getJob(deadlineJobId(escalation.id));
      expect(job?.opts.attempts).toBe(5);
    });
  });

  describe('when the SMTP server refuses the first messages, then accepts', () => {
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let ctx: TestContext;
    let w: World;
    let worker: DeadlineWorker;
    beforeAll(async () => {
      await truncateAll();
      // More refusals than the old schedule's 5 attempts; a small backoff keeps the test short.
      smtp = await startSmtp({ rejectFirst: 6 });
      ctx = await createTestContext({
        clock: fixedClock(TUESDAY),
        env: { SMTP_URL: smtp.url, EMAIL_RETRY_DELAY_MS: '20' },
      });
      w = await referralWorld(ctx.app);
      worker = await startDeadlineWorker(ctx.deps);
    });
    afterAll(async () => {
      await worker.close();
      await ctx.close();
      await smtp.close();
    });

    it('then the partner receives exactly one email, one sent_emails row is kept and its link works', async () => {
      const id = await newReferral(w);
      const [email] = await smtp.waitFor(1);
      const deadline = await doneEmailDeadline(id);
      expect(smtp.rejected).toBe(6);
      await new Promise((r) => setTimeout(r, 300));
      expect(smtp.received).toHaveLength(1);
      expect(await testKnex()('sent_emails').where({ deadline_id: deadline.id })).toHaveLength(1);
      // Each refused attempt was written on the deadline row; the failed ones left no link.
      await waitFor(
        async () => (await emailDeadlineOf(id)).attempts === 6,
        'six failed attempts on the row',
      );
      expect(await testKnex()('referral_links').where({ referral_id: id })).toHaveLength(1);

      const link = linkIn(email);
      expect((await request(ctx.app).get(link.path)).status).toBe(200);
      const res = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
      expect(res.status).toBe(200);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');
    });
  });

  describe('when the SMTP server accepts the connection and never answers', () => {
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    let ctx: TestContext;
    let w: World;
    beforeAll(async () => {
      await truncateAll();
      smtp = await startSmtp();
      // Two hung connections, then the server is back.
      silent = await startSilentServer({ silentConnections: 2, upstreamPort: smtp.port });
      ctx = await createTestContext({
        clock: fixedClock(TUESDAY),
        env: { SMTP_URL: silent.url, SMTP_TIMEOUT_MS: '300', EMAIL_RETRY_DELAY_MS: '20' },
      });
      w = await referralWorld(ctx.app);
    });
    afterAll(async () => {
      await ctx.close();
      await silent.close();
      await smtp.close();
    });

    it('then the send fails within the bound, the job transaction rolls back and frees its connection, and a later attempt delivers one email', async () => {
      const id = await newReferral(w);
      const deadline = await emailDeadlineOf(id);
      const started = Date.now();
      await expect(
        processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, deadline.id),
      ).rejects.toThrow(/greeting|timeout/i);
      // nodemailer's own default would wait 2 minutes for the greeting; the bound is 300 ms.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(silent.connections).toBe(1);
      const pool = (ctx.deps.knex.client as { pool: { numUsed(): number } }).pool;
      expect(pool.numUsed()).toBe(0);
      expect((await emailDeadlineOf(id)).status).toBe('pending');
      expect(await testKnex()('referral_links').where({ referral_id: id })).toHaveLength(0);
      expect(await testKnex()('sent_emails').where({ deadline_id: deadline.id })).toHaveLength(0);

      // The worker's first attempt hangs too and fails on the bound; the retry gets through.
      const worker = await startDeadlineWorker(ctx.deps);
      try {
        const [email] = await smtp.waitFor(1);
        const done = await doneEmailDeadline(id);
        expect(silent.connections).toBe(3);
        expect(done.attempts).toBeGreaterThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 300));
        expect(smtp.received).toHaveLength(1);
        expect(await testKnex()('sent_emails').where({ deadline_id: deadline.id })).toHaveLength(1);
        expect((await request(ctx.app).get(linkIn(email).path)).status).toBe(200);
      } finally {
        await worker.close();
      }
    });
  });
});
