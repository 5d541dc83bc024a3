import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import { createApp } from '../../../server/app';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { csrfOf } from '../../e2e/html';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import {
  createPerson,
  emailFor,
  giveConsent,
  refer,
  referralWorld,
  resetLinkRateLimit,
} from './helpers';
import { linkIn, startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;
const DAY = 24 * 3600 * 1000;

describe('partners answering by signed link, sent by email through a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let w: World;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  async function newReferral() {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id, { sharedFields: ['phone'] });
    const res = await refer(w.agents.worker, person.id, w.food.partner.id, {
      serviceId: w.food.service.id,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const deadlineOf = async (referralId: string, kind: string) =>
    (await testKnex()('deadlines').where({ subject_id: referralId, kind }).first()) as {
      id: string;
      status: string;
    };

  const emailOf = (referralId: string, kind?: string) => emailFor(ctx, smtp, referralId, kind);

  describe('through the running deadline worker', () => {
    let worker: DeadlineWorker;
    beforeAll(async () => {
      worker = await startDeadlineWorker(ctx.deps);
    });
    afterAll(async () => worker.close());

    it('when a worker refers, then the partner receives one French email with a working link and nothing about the person', async () => {
      const before = smtp.received.length;
      const id = await newReferral();
      const [email] = (await smtp.waitFor(before + 1)).slice(before);

      expect(email.to).toEqual([w.food.partner.email]);
      expect(email.subject).toContain("Nouvelle demande d'orientation");
      expect(email.text).toContain('Bonjour');
      expect(email.text).toContain('Colis alimentaires');
      const link = linkIn(email);
      expect(email.html).toContain(link.url);
      for (const secret of ['Nadia', 'Benali', 'Besoin alimentaire', 'Famille de trois', '06 12'])
        expect(email.raw).not.toContain(secret);
      expect(email.messageId).toMatch(/^<deadline-[0-9a-f-]+@127\.0\.0\.1>$/);

      // The email leaves inside the job's transaction; wait for it to commit.
      for (let i = 0; i < 100; i += 1) {
        if ((await deadlineOf(id, REFERRAL_EMAIL_PARTNER)).status === 'done') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Only the hash of the token is stored.
      const stored = await testKnex()('referral_links').where({ referral_id: id });
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toContain(link.token);
      expect((await deadlineOf(id, REFERRAL_EMAIL_PARTNER)).status).toBe('done');
      expect(await testKnex()('sent_emails').where({ message_id: email.messageId })).toHaveLength(
        1,
      );

      const page = await request(ctx.app).get(link.path);
      expect(page.status).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.text).toContain('Nadia Benali');
      expect(page.text).toContain('06 12 34 56 78');
      expect(page.text).toContain('Besoin alimentaire urgent');
      expect(page.text).not.toContain('Situation confidentielle');
      expect(page.text).not.toContain('nadia@example.test');

      const noReason = await request(ctx.app)
        .post(link.path)
        .type('form')
        .send({ action: 'reject' });
      expect(noReason.status).toBe(400);
      expect(noReason.text).toContain('motif');

      const accepted = await request(ctx.app)
        .post(link.path)
        .type('form')
        .send({ action: 'accept' });
      expect(accepted.status).toBe(200);
      expect(accepted.text).toContain('Merci');

      const referral = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(referral.body.status).toBe('accepted');
      expect(referral.body.events.at(-1)).toMatchObject({
        toStatus: 'accepted',
        actorKind: 'link',
      });
      const notes = await w.agents.worker.get('/api/notifications');
      expect(notes.body.items.map((n: { subjectId: string }) => n.subjectId)).toContain(id);

      // Spent: the link cannot be used again, for the same or another answer.
      expect((await request(ctx.app).get(link.path)).status).toBe(410);
      const again = await request(ctx.app)
        .post(link.path)
        .type('form')
        .send({ action: 'reject', reason: 'no_capacity' });
      expect(again.status).toBe(410);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');

      const audit = await testKnex()('audit_events')
        .where({ subject_id: id })
        .whereLike('action', 'referral_link.%')
        .orderBy('id');
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining([
          'referral_link.view',
          'referral_link.use',
          'referral_link.refused',
        ]),
      );
      expect(audit.every((a) => a.ip)).toBe(true);
      expect(JSON.stringify(audit)).not.toContain(link.token);

      // The partner user of another organisation still gets 404 on that referral.
      expect((await w.agents.outsider.get(`/api/referrals/${id}`)).status).toBe(404);
    });
  });

  it('when the same email deadline is delivered twice at once, then one email is sent', async () => {
    const id = await newReferral();
    const d = await deadlineOf(id, REFERRAL_EMAIL_PARTNER);
    // Nothing consumes the queue here: the two deliveries are these two calls.
    const before = smtp.received.length;
    const outcomes = await Promise.all([
      processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, d.id),
      processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, d.id),
    ]);
    expect(outcomes.sort()).toEqual(['done', 'not_pending']);
    await smtp.waitFor(before + 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received.length).toBe(before + 1);
    expect(await testKnex()('sent_emails').where({ deadline_id: d.id })).toHaveLength(1);
  });

  it('when a respond link is opened after a partner user already answered, then it is refused (410)', async () => {
    const id = await newReferral();
    const link = linkIn(await emailOf(id));
    await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' });
    const res = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
    expect(res.status).toBe(410);
    expect(res.text).toContain("n'attend plus de réponse");
  });

  it('when the link is 8 days old, then it is refused and the referral does not move; a minute earlier it still works; the email said until when, to the minute', async () => {
    const id = await newReferral();
    const email = await emailOf(id);
    const link = linkIn(email);
    const [row] = await testKnex()('referral_links').where({ referral_id: id });
    const sentAt = new Date(row.created_at).getTime();
    expect(sentAt).toBe(clock.now().getTime());
    expect(new Date(row.expires_at).getTime() - sentAt).toBe(8 * DAY);
    // Sent on 24 November at 10:00 Paris time: it works until 2 December at 10:00, not all day.
    expect(email.text).toContain("Ce lien est valable jusqu'au 2 décembre 2026 à 10:00 ");
    expect(email.html).toContain('valable jusqu&#39;au 2 décembre 2026 à 10:00 ');
    try {
      clock.set(new Date(sentAt + 8 * DAY - 60_000));
      expect((await request(ctx.app).get(link.path)).status).toBe(200);
      clock.set(new Date(sentAt + 8 * DAY + 60_000));
      const page = await request(ctx.app).get(link.path);
      expect(page.status).toBe(410);
      expect(page.text).toContain('expiré');
      const post = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
      expect(post.status).toBe(410);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('requested');

      // Another link, answered one minute before its expiry: accepted.
      clock.set('2026-11-24T10:00:00+01:00');
      const other = await newReferral();
      const otherLink = linkIn(await emailOf(other));
      clock.set(new Date(clock.now().getTime() + 8 * DAY - 60_000));
      const accepted = await request(ctx.app)
        .post(otherLink.path)
        .type('form')
        .send({ action: 'accept' });
      expect(accepted.status).toBe(200);
      expect((await w.agents.worker.get(`/api/referrals/${other}`)).body.status).toBe('accepted');
    } finally {
      clock.set('2026-11-24T10:00:00+01:00');
    }
  });

  it('when the partner accepts through the link, then the answer page keeps the shared contact details, reason and summary, since the spent link will not show them again', async () => {
    const id = await newReferral();
    const link = linkIn(await emailOf(id));
    const accepted = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
    expect(accepted.status).toBe(200);
    expect(accepted.headers['cache-control']).toBe('no-store');
    expect(accepted.text).toContain('Nadia Benali');
    expect(accepted.text).toContain('06 12 34 56 78');
    expect(accepted.text).toContain('Besoin alimentaire urgent');
    expect(accepted.text).toContain('Famille de trois personnes');
    expect(accepted.text).toContain('Éléments partagés avec l’accord de la personne');
    expect(accepted.text).toContain('Notez ces coordonnées : ce lien ne servira plus.');
    // Only what the consent shares: not the email, nor the staff's notes.
    expect(accepted.text).not.toContain('nadia@example.test');
    expect(accepted.text).not.toContain('Situation confidentielle');
    expect((await request(ctx.app).get(link.path)).status).toBe(410);

    // A refusal leaves nothing to note.
    const other = linkIn(await emailOf(await newReferral()));
    const rejected = await request(ctx.app)
      .post(other.path)
      .type('form')
      .send({ action: 'reject', reason: 'no_capacity' });
    expect(rejected.status).toBe(200);
    expect(rejected.text).not.toContain('06 12 34 56 78');
    expect(rejected.text).not.toContain('Notez ces coordonnées');
  });

  it('when the partner rejects through the link with a coded reason, then the referral is rejected', async () => {
    const id = await newReferral();
    const link = linkIn(await emailOf(id));
    const res = await request(ctx.app)
      .post(link.path)
      .type('form')
      .send({ action: 'reject', reason: 'out_of_area' });
    expect(res.status).toBe(200);
    const r = await w.agents.worker.get(`/api/referrals/${id}`);
    expect(r.body).toMatchObject({ status: 'rejected', statusReasonCode: 'out_of_area' });
    // A respond link cannot report an outcome.
    const other = linkIn(await emailOf(await newReferral()));
    const wrong = await request(ctx.app).post(other.path).type('form').send({ action: 'complete' });
    expect(wrong.status).toBe(400);
  });

  it('when the referral was accepted, then the outcome link asks whether help was delivered and records it', async () => {
    const id = await newReferral();
    await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' });
    const email = await emailOf(id, REFERRAL_ASK_OUTCOME);
    expect(email.subject).toContain("L'aide a-t-elle pu être apportée");
    const link = linkIn(email);
    const page = await request(ctx.app).get(link.path);
    expect(page.text).toContain("L'aide a-t-elle pu être apportée");
    const fail = await request(ctx.app).post(link.path).type('form').send({ action: 'fail' });
    expect(fail.status).toBe(400);
    const done = await request(ctx.app)
      .post(link.path)
      .type('form')
      .send({ action: 'complete', outcome: 'Colis remis' });
    expect(done.status).toBe(200);
    const r = await w.agents.worker.get(`/api/referrals/${id}`);
    expect(r.body).toMatchObject({ status: 'completed', outcome: 'Colis remis' });
  });

  describe('a link sent again by the structure', () => {
    const later = (days: number) => new Date(clock.now().getTime() + days * DAY);
    // These tests open links too: the per-IP limit is not under test here.
    beforeEach(async () => resetLinkRateLimit(ctx));
    afterEach(() => clock.set('2026-11-24T10:00:00+01:00'));

    /** Runs the one pending deadline of this kind due at `dueAt`, as the worker would. */
    async function deliver(referralId: string, kind: string, dueAt: string) {
      const d = await testKnex()('deadlines')
        .where({ subject_id: referralId, kind, status: 'pending', due_at: new Date(dueAt) })
        .first('id');
      expect(d).toBeDefined();
      const before = smtp.received.length;
      expect(await processDeadline(ctx.deps, processors, kind, d.id)).toBe('done');
      return (await smtp.waitFor(before + 1)).at(-1)!;
    }

    it('when a requested referral’s links expired and its requester sends the link again from its page, then the partner receives a working respond link', async () => {
      const id = await newReferral();
      const first = linkIn(await emailOf(id));
      // Nine days on (a Thursday morning): the first link has expired, the referral still waits.
      clock.set(later(9));
      const expired = await request(ctx.app).get(first.path);
      expect(expired.status).toBe(410);
      expect(expired.text).toContain('de vous renvoyer le lien');

      const page = await w.agents.worker.get(`/orientations/${id}`);
      expect(page.text).toContain('Renvoyer le lien au partenaire');
      const sent = await w.agents.worker
        .post(`/orientations/${id}/lien`)
        .type('form')
        .send({ _csrf: csrfOf(page.text) });
      expect(sent.status).toBe(303);
      const after = await w.agents.worker.get(`/orientations/${id}`);
      expect(after.text).toContain(
        'Le partenaire reçoit par courriel un nouveau lien pour répondre à la demande, valable 8 jours.',
      );

      const email = await deliver(id, REFERRAL_RESEND_LINK, clock.now().toISOString());
      expect(email.to).toEqual([w.food.partner.email]);
      expect(email.subject).toContain('Rappel');
      const fresh = linkIn(email);
      expect(fresh.token).not.toBe(first.token);
      const open = await request(ctx.app).get(fresh.path);
      expect(open.status).toBe(200);
      expect(open.text).toContain('Nadia Benali');
      const accepted = await request(ctx.app)
        .post(fresh.path)
        .type('form')
        .send({ action: 'accept' });
      expect(accepted.status).toBe(200);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');

      const audit = await testKnex()('audit_events').where({
        subject_id: id,
        action: 'referral.resend_link',
      });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor_id: w.team.worker.id });
      expect(audit[0].details).toMatchObject({ purpose: 'respond' });
    });

    it('when a manager sends the link of an accepted referral again on a Saturday, then the outcome question leaves on Monday morning with a working outcome link', async () => {
      const id = await newReferral();
      await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' });
      clock.set('2026-11-28T15:00:00+01:00');
      const res = await w.agents.manager.post(`/api/referrals/${id}/resend-link`);
      expect(res.status).toBe(202);
      expect(res.body.purpose).toBe('outcome');
      expect(new Date(res.body.dueAt).getTime()).toBeGreaterThan(clock.now().getTime());
      clock.set(res.body.dueAt);
      const email = await deliver(id, REFERRAL_RESEND_LINK, res.body.dueAt);
      const link = linkIn(email);
      const done = await request(ctx.app)
        .post(link.path)
        .type('form')
        .send({ action: 'complete', outcome: 'Colis remis' });
      expect(done.status).toBe(200);
      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('completed');
    });

    it('when a link is sent again after both reminders went and the working hours change, then it is kept at its working moment and then delivered, not taken for a planned reminder', async () => {
      const id = await newReferral();
      // Both planned reminders (days 3 and 5) go, as the worker would send them.
      const reminders = await testKnex()('deadlines')
        .where({ subject_id: id, kind: REFERRAL_REMIND_PARTNER })
        .orderBy('due_at');
      expect(reminders).toHaveLength(2);
      for (const r of reminders) {
        clock.set(r.due_at);
        expect(await processDeadline(ctx.deps, processors, REFERRAL_REMIND_PARTNER, r.id)).toBe(
          'done',
        );
      }
      // Tuesday 1 December, 19:00: the re-send waits for Wednesday's working morning.
      clock.set('2026-12-01T19:00:00+01:00');
      const res = await w.agents.worker.post(`/api/referrals/${id}/resend-link`);
      expect(res.status).toBe(202);
      expect(res.body.dueAt).toBe('2026-12-02T07:30:00.000Z');

      const version = (await w.agents.admin.get('/api/settings')).body.version;
      const patch = await w.agents.admin
        .patch('/api/settings')
        .send({ version, digestTime: '09:30', workingHours: { start: '09:15', end: '17:30' } });
      try {
        expect(patch.status).toBe(200);
        // A move writes the deadline again at its new moment: one pending re-send remains.
        const [resend, ...more] = await testKnex()('deadlines').where({
          subject_id: id,
          kind: REFERRAL_RESEND_LINK,
          status: 'pending',
        });
        expect(more).toHaveLength(0);
        expect(new Date(resend.due_at).toISOString()).toBe('2026-12-02T08:15:00.000Z');
        clock.set(resend.due_at);
        const email = await deliver(id, REFERRAL_RESEND_LINK, resend.due_at.toISOString());
        expect(email.to).toEqual([w.food.partner.email]);
        expect(email.subject).toContain('Rappel');
      } finally {
        const back = (await w.agents.admin.get('/api/settings')).body.version;
        await w.agents.admin
          .patch('/api/settings')
          .send({
            version: back,
            digestTime: '08:30',
            workingHours: { start: '08:30', end: '18:00' },
          })
          .expect(200);
      }
    });

    it('when someone else than the requester or a manager asks, or the referral ended, then nothing is sent: 404 for another structure, 403 for another worker, 422 once closed', async () => {
      const id = await newReferral();
      const pending = () =>
        testKnex()('deadlines')
          .where({ subject_id: id, kind: REFERRAL_RESEND_LINK, status: 'pending' })
          .count({ n: '*' })
          .then(([r]) => Number(r.n));
      const foreign = await referralWorld(ctx.app);
      const outside = await foreign.agents.worker.post(`/api/referrals/${id}/resend-link`);
      expect(outside.status).toBe(404);
      expect(outside.body.error.code).toBe('not_found');
      expect((await w.agents.worker2.post(`/api/referrals/${id}/resend-link`)).status).toBe(403);
      expect((await w.agents.partner.post(`/api/referrals/${id}/resend-link`)).status).toBe(403);
      // The page offers it to the requester only.
      expect((await w.agents.worker2.get(`/orientations/${id}`)).text).not.toContain(
        'Renvoyer le lien au partenaire',
      );
      await w.agents.partner
        .post(`/api/referrals/${id}/transitions`)
        .send({ to: 'rejected', reason: 'no_capacity' });
      const closed = await w.agents.worker.post(`/api/referrals/${id}/resend-link`);
      expect(closed.status).toBe(422);
      expect(closed.body.error.code).toBe('referral_closed');
      expect((await w.agents.worker.get(`/orientations/${id}`)).text).not.toContain(
        'Renvoyer le lien au partenaire',
      );
      expect(await pending()).toBe(0);
      expect(
        await testKnex()('audit_events').where({ subject_id: id, action: 'referral.resend_link' }),
      ).toHaveLength(0);
    });

    it('when a link has both expired and been answered meanwhile, then its page says the referral was answered, not to ask for a new link', async () => {
      const id = await newReferral();
      const link = linkIn(await emailOf(id));
      await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' });
      clock.set(later(14));
      const page = await request(ctx.app).get(link.path);
      expect(page.status).toBe(410);
      expect(page.text).toContain("n'attend plus de réponse");
      expect(page.text).not.toContain('expiré');
      const post = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
      expect(post.status).toBe(410);
      expect(post.text).toContain("n'attend plus de réponse");
    });
  });

  it('when a link is requested, then the request log shows the path without the token', async () => {
    const id = await newReferral();
    const link = linkIn(await emailOf(id));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const app = createApp({ ...ctx.deps, logger: pino({ level: 'info' }, sink) });
    expect((await request(app).get(link.path)).status).toBe(200);
    const log = lines.join('');
    expect(log).toContain('/partenaires/reponse/[token]');
    expect(log).not.toContain(link.token);
  });

  it('when one address opens too many links, then 429', async () => {
    const bogus = '/partenaires/reponse/' + 'A'.repeat(43);
    // Start from a clean count: the tests above opened links from this address too.
    await resetLinkRateLimit(ctx);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) statuses.push((await request(ctx.app).get(bogus)).status);
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
