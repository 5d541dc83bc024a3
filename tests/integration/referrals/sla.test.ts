import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { createUser } from '../../setup/factories';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';
import { linkIn, startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;
interface DeadlineRow {
  id: string;
  kind: string;
  status: string;
  due_at: Date;
  last_error: string | null;
}

const TUESDAY = '2026-11-24T10:00:00+01:00';
const iso = (s: string) => new Date(s).toISOString();

describe('referral SLA: reminders to the partner and escalation to the requester', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let w: World;
  const clock = fixedClock(TUESDAY);

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    w = await referralWorld(ctx.app);
  });
  afterEach(() => clock.set(TUESDAY));
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  async function newReferral(
    opts: { serviceId?: string; person?: Record<string, unknown> } = {},
  ): Promise<string> {
    const person = await createPerson(w.agents.worker, opts.person);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id, { sharedFields: ['phone'] });
    const res = await refer(w.agents.worker, person.id, w.food.partner.id, {
      serviceId: opts.serviceId ?? w.food.service.id,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const deadlinesOf = async (referralId: string, kind: string): Promise<DeadlineRow[]> =>
    testKnex()('deadlines').where({ subject_id: referralId, kind }).orderBy('due_at');

  const dueDates = async (referralId: string, kind: string) =>
    (await deadlinesOf(referralId, kind)).map((d) => new Date(d.due_at).toISOString());

  const run = (kind: string, id: string) => processDeadline(ctx.deps, processors, kind, id);

  /** Puts a processed deadline back to pending: the redelivery the side effect's key must absorb. */
  const redeliver = async (id: string) =>
    testKnex()('deadlines').where({ id }).update({ status: 'pending', processed_at: null });

  const escalationsFor = (referralId: string) =>
    testKnex()('notifications').where({
      recipient_id: w.team.worker.id,
      kind: 'referral.escalated',
      subject_id: referralId,
    });

  describe('when a referral is created', () => {
    it('when the service keeps the default delay, then reminders fall on business days 3 and 5 and the escalation on day 5', async () => {
      const id = await newReferral();
      // Tuesday 24 Nov: day 3 is Friday 27 Nov, day 5 is Tuesday 1 Dec (the weekend does not count).
      expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
        iso('2026-11-27T10:00:00+01:00'),
        iso('2026-12-01T10:00:00+01:00'),
      ]);
      expect(await dueDates(id, REFERRAL_ESCALATE_REQUESTER)).toEqual([
        iso('2026-12-01T10:00:00+01:00'),
      ]);
      expect(
        (await testKnex()('deadlines').where({ subject_id: id })).every(
          (d) => d.status === 'pending' && d.structure_id === w.team.structure.id,
        ),
      ).toBe(true);
    });

    it('when the service answers within 2 business days, then one reminder and the escalation fall on day 2', async () => {
      const [quick] = await testKnex()('partner_services')
        .insert({
          partner_id: w.food.partner.id,
          name: 'Aide d’urgence',
          themes: ['equipement-et-alimentation--alimentation'],
          response_delay_days: 2,
        })
        .returning('id');
      const id = await newReferral({ serviceId: quick.id });
      expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
        iso('2026-11-26T10:00:00+01:00'),
      ]);
      expect(await dueDates(id, REFERRAL_ESCALATE_REQUESTER)).toEqual([
        iso('2026-11-26T10:00:00+01:00'),
      ]);
    });

    it('when the service takes 12 business days, then the reminders fall on days 3 and 12, the escalation on day 12 and the expiry on day 17, after them', async () => {
      const [slow] = await testKnex()('partner_services')
        .insert({
          partner_id: w.food.partner.id,
          name: 'Accompagnement long',
          themes: ['equipement-et-alimentation--alimentation'],
          response_delay_days: 12,
        })
        .returning('id');
      const id = await newReferral({ serviceId: slow.id });
      // Tuesday 24 Nov: day 3 is Fri 27 Nov, day 12 is Thu 10 Dec, day 17 is Thu 17 Dec.
      expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
        iso('2026-11-27T10:00:00+01:00'),
        iso('2026-12-10T10:00:00+01:00'),
      ]);
      expect(await dueDates(id, REFERRAL_ESCALATE_REQUESTER)).toEqual([
        iso('2026-12-10T10:00:00+01:00'),
      ]);
      expect(await dueDates(id, REFERRAL_EXPIRE)).toEqual([iso('2026-12-17T10:00:00+01:00')]);
      // The default delay keeps the spec's day 10 (Tuesday 8 December).
      expect(await dueDates(await newReferral(), REFERRAL_EXPIRE)).toEqual([
        iso('2026-12-08T10:00:00+01:00'),
      ]);
    });

    it('when public holidays fall in the delay, then they are skipped', async () => {
      // Thursday 24 Dec: Christmas (Fri 25) and New Year's Day (Fri 1 Jan) are not business days.
      clock.set('2026-12-24T10:00:00+01:00');
      const id = await newReferral();
      expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
        iso('2026-12-30T10:00:00+01:00'),
        iso('2027-01-04T10:00:00+01:00'),
      ]);
      expect(await dueDates(id, REFERRAL_ESCALATE_REQUESTER)).toEqual([
        iso('2027-01-04T10:00:00+01:00'),
      ]);
    });

    it('when the referral is made after working hours, then its reminders wait for the next working morning', async () => {
      clock.set('2026-11-24T19:30:00+01:00');
      const id = await newReferral();
      // Day 3 is Friday 27 Nov 19:30, after hours: Monday 30 Nov 08:30. Day 5, Tuesday 1 Dec 19:30: Wednesday 08:30.
      expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
        iso('2026-11-30T08:30:00+01:00'),
        iso('2026-12-02T08:30:00+01:00'),
      ]);
    });
  });

  it('when the structure gives partners 8 business days, then a referral made on Monday to a service without a delay escalates to its requester 8 business days later, and one to a service of 3 days after 3', async () => {
    // A structure of its own: its partners get 8 business days to answer.
    const v = await referralWorld(ctx.app);
    const { version } = (await v.agents.admin.get('/api/settings')).body;
    const settings = await v.agents.admin
      .patch('/api/settings')
      .send({ version, referralResponseDays: 8 });
    expect(settings.status).toBe(200);

    /** A referral made on Monday 9 March 2026 at 10:00 to a service with this delay. */
    async function referTo(serviceDelay: number | null) {
      clock.set('2026-03-09T10:00:00+01:00');
      const [service] = await testKnex()('partner_services')
        .insert({
          partner_id: v.food.partner.id,
          name: `Colis (délai ${serviceDelay ?? 'de la structure'})`,
          themes: ['equipement-et-alimentation--alimentation'],
          response_delay_days: serviceDelay,
        })
        .returning('id');
      const person = await createPerson(v.agents.worker);
      await giveConsent(v.agents.worker, person.id, v.food.partner.id, {
        givenAt: '2026-03-02T10:00:00+01:00',
      });
      const res = await refer(v.agents.worker, person.id, v.food.partner.id, {
        serviceId: service.id,
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    }

    /** Runs the escalation at its moment: the requester's notification titles. */
    async function escalate(id: string, at: string) {
      const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
      expect(new Date(escalation.due_at).toISOString()).toBe(iso(at));
      clock.set(at);
      expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
      const notes = await testKnex()('notifications').where({
        recipient_id: v.team.worker.id,
        kind: 'referral.escalated',
        subject_id: id,
      });
      return notes.map((n) => n.title);
    }

    // No delay of its own: the structure's 8 days, to Thursday 19 March.
    const structures = await referTo(null);
    expect(await dueDates(structures, REFERRAL_REMIND_PARTNER)).toEqual([
      iso('2026-03-12T10:00:00+01:00'),
      iso('2026-03-19T10:00:00+01:00'),
    ]);
    expect(await escalate(structures, '2026-03-19T10:00:00+01:00')).toEqual([
      'Orientation vers Banque alimentaire sans réponse depuis 8 jours ouvrés',
    ]);

    // Its own 3 days: Thursday 12 March.
    const own = await referTo(3);
    expect(await dueDates(own, REFERRAL_REMIND_PARTNER)).toEqual([
      iso('2026-03-12T10:00:00+01:00'),
    ]);
    expect(await escalate(own, '2026-03-12T10:00:00+01:00')).toEqual([
      'Orientation vers Banque alimentaire sans réponse depuis 3 jours ouvrés',
    ]);
  });

  it('when a reminder is due, then the partner receives one French reminder with a fresh working link and nothing about the person, even if the job runs twice', async () => {
    const id = await newReferral();
    const [first, second] = await deadlinesOf(id, REFERRAL_REMIND_PARTNER);
    clock.set('2026-11-27T10:00:00+01:00');

    const before = smtp.received.length;
    expect(await run(REFERRAL_REMIND_PARTNER, first.id)).toBe('done');
    const email = (await smtp.waitFor(before + 1))[before];
    expect(email.to).toEqual([w.food.partner.email]);
    expect(email.subject).toContain('Rappel');
    expect(email.text).toContain('attend toujours votre réponse');
    expect(email.text).toContain('Colis alimentaires');
    expect(email.html).toContain('<html lang="fr">');
    const link = linkIn(email);
    expect(email.html).toContain(link.url);
    for (const secret of ['Nadia', 'Benali', 'Besoin alimentaire', 'Famille de trois', '06 12'])
      expect(email.raw).not.toContain(secret);
    expect(email.messageId).toBe(`<deadline-${first.id}@127.0.0.1>`);

    // A second delivery of the same deadline: the row is no longer pending, then (forced back
    // to pending) the sent_emails key stops it.
    expect(await run(REFERRAL_REMIND_PARTNER, first.id)).toBe('not_pending');
    await redeliver(first.id);
    expect(await run(REFERRAL_REMIND_PARTNER, first.id)).toBe('skipped');
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received.length).toBe(before + 1);
    expect(await testKnex()('sent_emails').where({ deadline_id: first.id })).toHaveLength(1);

    const page = await request(ctx.app).get(link.path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Besoin alimentaire urgent');
    const accepted = await request(ctx.app).post(link.path).type('form').send({ action: 'accept' });
    expect(accepted.status).toBe(200);
    expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');

    // The answer cancelled what was still waiting for it; a job that slips through does nothing.
    const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
    for (const d of [second, escalation]) {
      expect((await testKnex()('deadlines').where({ id: d.id }).first()).status).toBe('cancelled');
    }
    clock.set('2026-12-01T10:00:00+01:00');
    expect(await run(REFERRAL_REMIND_PARTNER, second.id)).toBe('not_pending');
    expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('not_pending');
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received.length).toBe(before + 1);
    expect(await escalationsFor(id)).toHaveLength(0);
  });

  it('when the delay ends without an answer, then the requester is notified once, without person data', async () => {
    const id = await newReferral();
    const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
    clock.set('2026-12-01T10:00:00+01:00');

    expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
    await redeliver(escalation.id);
    expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');

    const notes = await escalationsFor(id);
    expect(notes).toHaveLength(1);
    expect(notes[0].title).toBe(
      'Orientation vers Banque alimentaire sans réponse depuis 5 jours ouvrés',
    );
    expect(notes[0].link).toBe(`/orientations/${id}`);
    expect(JSON.stringify(notes[0])).not.toMatch(/Nadia|Benali|Besoin alimentaire/);
    const listed = await w.agents.worker.get('/api/notifications');
    expect(
      listed.body.items.filter(
        (n: { kind: string; subjectId: string }) =>
          n.kind === 'referral.escalated' && n.subjectId === id,
      ),
    ).toHaveLength(1);
  });

  it('when the partner declined before the escalation ran, then the escalation is skipped', async () => {
    const id = await newReferral();
    const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
    // The row is forced back to pending to play a job that raced the cancellation.
    const res = await w.agents.partner
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'rejected', reason: 'no_capacity' });
    expect(res.status).toBe(200);
    await redeliver(escalation.id);
    expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('skipped');
    expect(await escalationsFor(id)).toHaveLength(0);
  });

  it('when reminders are paused for the person, then the reminder is skipped and no email leaves', async () => {
    const id = await newReferral({ person: { pauseReminders: true } });
    const [first] = await deadlinesOf(id, REFERRAL_REMIND_PARTNER);
    clock.set('2026-11-27T10:00:00+01:00');
    const before = smtp.received.length;
    expect(await run(REFERRAL_REMIND_PARTNER, first.id)).toBe('skipped');
    const row = await testKnex()('deadlines').where({ id: first.id }).first();
    expect(row.status).toBe('skipped');
    expect(row.last_error).toContain('paused');
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received.length).toBe(before);
    expect(await testKnex()('sent_emails').where({ deadline_id: first.id })).toHaveLength(0);
  });

  describe('expiry at business day 10, through the deadline processor', () => {
    it("when the partner never answered, then the referral expires, the requester is notified and gets one 'Réorienter' follow-up, even if the job runs twice", async () => {
      const id = await newReferral();
      const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
      // Tuesday 24 Nov + 10 business days: Tuesday 8 Dec, same time.
      expect(new Date(expiry.due_at).toISOString()).toBe(iso('2026-12-08T10:00:00+01:00'));
      clock.set(expiry.due_at);

      expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('done');
      const r = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(r.body.status).toBe('expired');
      expect(r.body.events.at(-1)).toMatchObject({
        fromStatus: 'requested',
        toStatus: 'expired',
        actorKind: 'system',
        reasonCode: 'sla_passed',
      });
      const followUps = await testKnex()('follow_ups').where({ person_id: r.body.personId });
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        assignee_id: w.team.worker.id,
        status: 'open',
        title: 'Réorienter : la demande au partenaire a expiré sans réponse',
      });
      expect(new Date(followUps[0].due_at).toISOString()).toBe(
        new Date(expiry.due_at).toISOString(),
      );
      expect(
        await testKnex()('deadlines').where({ subject_id: followUps[0].id, kind: 'follow_up.due' }),
      ).toHaveLength(1);
      const notes = await testKnex()('notifications').where({
        subject_id: id,
        kind: 'referral.expired',
        recipient_id: w.team.worker.id,
      });
      expect(notes).toHaveLength(1);
      expect(notes[0].title).toBe('Orientation vers Banque alimentaire expirée sans réponse');
      // Nothing is left waiting for the partner's answer.
      expect(
        await testKnex()('deadlines').where({ subject_id: id, status: 'pending' }),
      ).toHaveLength(0);

      await redeliver(expiry.id);
      expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('skipped');
      expect(await testKnex()('follow_ups').where({ person_id: r.body.personId })).toHaveLength(1);
    });

    describe('when the structure lets a referral expire on the day its answer is due', () => {
      let v: World;
      beforeAll(async () => {
        v = await referralWorld(ctx.app);
        const { version } = (await v.agents.admin.get('/api/settings')).body;
        const res = await v.agents.admin
          .patch('/api/settings')
          .send({ version, referralResponseDays: 5, referralExpiryDays: 5 });
        expect(res.status).toBe(200);
      });

      /** A referral sent on Tuesday 24 November at 07:00, before working hours. */
      async function earlyReferral() {
        clock.set('2026-11-24T07:00:00+01:00');
        const person = await createPerson(v.agents.worker);
        await giveConsent(v.agents.worker, person.id, v.food.partner.id);
        const res = await refer(v.agents.worker, person.id, v.food.partner.id);
        expect(res.status).toBe(201);
        return res.body.id as string;
      }
      const statusOf = async (id: string) =>
        (await v.agents.worker.get(`/api/referrals/${id}`)).body.status;
      const rowOf = (id: string) => testKnex()('deadlines').where({ id }).first();

      it('when a referral is sent before working hours, then it expires at the working moment of day 5, with the last reminder and the escalation, which run before it', async () => {
        const id = await earlyReferral();
        // Day 5 is Tuesday 1 December: 07:00 is before hours, so 08:30 for every deadline.
        const day5 = iso('2026-12-01T08:30:00+01:00');
        expect(await dueDates(id, REFERRAL_REMIND_PARTNER)).toEqual([
          iso('2026-11-27T08:30:00+01:00'),
          day5,
        ]);
        expect(await dueDates(id, REFERRAL_ESCALATE_REQUESTER)).toEqual([day5]);
        expect(await dueDates(id, REFERRAL_EXPIRE)).toEqual([day5]);

        // Day 3's reminder went out on day 3.
        const [day3Reminder] = await deadlinesOf(id, REFERRAL_REMIND_PARTNER);
        clock.set(day3Reminder.due_at);
        const sent = smtp.received.length;
        expect(await run(REFERRAL_REMIND_PARTNER, day3Reminder.id)).toBe('done');
        await smtp.waitFor(sent + 1);

        // The expiry's job comes first: it waits a minute for the others due with it.
        clock.set(day5);
        const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
        expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('skipped');
        expect((await rowOf(expiry.id)).last_error).toContain('moved to 2026-12-01T07:31:00.000Z');
        expect(await statusOf(id)).toBe('requested');
        const later = (await deadlinesOf(id, REFERRAL_EXPIRE)).find((d) => d.status === 'pending')!;
        expect(new Date(later.due_at).toISOString()).toBe(iso('2026-12-01T08:31:00+01:00'));

        // The reminder and the escalation due with it are still there and act.
        const before = smtp.received.length;
        const [, reminder] = await deadlinesOf(id, REFERRAL_REMIND_PARTNER);
        expect(await run(REFERRAL_REMIND_PARTNER, reminder.id)).toBe('done');
        await smtp.waitFor(before + 1);
        const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
        expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
        expect(
          await testKnex()('notifications').where({ subject_id: id, kind: 'referral.escalated' }),
        ).toHaveLength(1);

        // A minute later nothing waits for it: the referral expires.
        clock.set(later.due_at);
        expect(await run(REFERRAL_EXPIRE, later.id)).toBe('done');
        expect(await statusOf(id)).toBe('expired');
        expect(
          await testKnex()('deadlines').where({ subject_id: id, status: 'pending' }),
        ).toHaveLength(0);
      });

      it('when the reminder due with it still has not run a minute later (a busy worker), then the moved expiry waits again, and expires once it has gone', async () => {
        const id = await earlyReferral();
        const [day3Reminder, reminder] = await deadlinesOf(id, REFERRAL_REMIND_PARTNER);
        clock.set(day3Reminder.due_at);
        expect(await run(REFERRAL_REMIND_PARTNER, day3Reminder.id)).toBe('done');
        const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
        const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
        clock.set(expiry.due_at);
        expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('skipped');
        expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
        // A minute later the reminder still waits in the queue: the expiry moves again.
        const moved = (await deadlinesOf(id, REFERRAL_EXPIRE)).find((d) => d.status === 'pending')!;
        clock.set(moved.due_at);
        expect(await run(REFERRAL_EXPIRE, moved.id)).toBe('skipped');
        expect(await statusOf(id)).toBe('requested');
        expect((await rowOf(reminder.id)).status).toBe('pending');
        // The reminder goes out, then the expiry.
        expect(await run(REFERRAL_REMIND_PARTNER, reminder.id)).toBe('done');
        const last = (await deadlinesOf(id, REFERRAL_EXPIRE)).find((d) => d.status === 'pending')!;
        expect(last.id).not.toBe(moved.id);
        clock.set(last.due_at);
        expect(await run(REFERRAL_EXPIRE, last.id)).toBe('done');
        expect(await statusOf(id)).toBe('expired');
      });

      it('when the reminder and the escalation due with it have failed already, then the expiry does not wait for them', async () => {
        const id = await earlyReferral();
        const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
        const waiting = [
          ...(await deadlinesOf(id, REFERRAL_REMIND_PARTNER)),
          ...(await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER)),
        ].map((d) => d.id);
        await testKnex()('deadlines')
          .whereIn('id', waiting)
          .update({ attempts: 1, last_error: 'SMTP down' });
        clock.set(expiry.due_at);
        expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('done');
        expect(await statusOf(id)).toBe('expired');
        for (const d of waiting) expect((await rowOf(d)).status).toBe('cancelled');
      });

      it('when the settings change, then the expiry is re-planned at the working moment of its new day too', async () => {
        const id = await earlyReferral();
        const { version } = (await v.agents.admin.get('/api/settings')).body;
        const res = await v.agents.admin
          .patch('/api/settings')
          .send({ version, referralExpiryDays: 6 });
        expect(res.status).toBe(200);
        // Day 6 is Wednesday 2 December; sent at 07:00, so at 08:30.
        const pending = (await deadlinesOf(id, REFERRAL_EXPIRE)).filter(
          (d) => d.status === 'pending',
        );
        expect(pending.map((d) => new Date(d.due_at).toISOString())).toEqual([
          iso('2026-12-02T08:30:00+01:00'),
        ]);
      });
    });

    it('when the partner answered before day 10, then the expiry does nothing', async () => {
      const id = await newReferral();
      const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
      await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' });
      clock.set(expiry.due_at);
      expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('not_pending');
      await redeliver(expiry.id);
      expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('skipped');
      const r = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(r.body.status).toBe('accepted');
      expect(await testKnex()('follow_ups').where({ person_id: r.body.personId })).toEqual([]);
    });
  });

  describe('when the requester has left', () => {
    /** A referral made by a worker who is disabled right after, for a file with `person`'s fields. */
    async function leaversReferral(person: Record<string, unknown>) {
      const leaver = await createUser(w.team.structure.id, 'worker');
      const agent = await loginAs(ctx.app, leaver.email);
      const created = await createPerson(agent, person);
      await giveConsent(agent, created.id, w.food.partner.id, { sharedFields: ['phone'] });
      const res = await refer(agent, created.id, w.food.partner.id, {
        serviceId: w.food.service.id,
      });
      expect(res.status).toBe(201);
      await testKnex()('users')
        .where({ id: leaver.id })
        .update({ disabled_at: new Date(TUESDAY) });
      return { id: res.body.id as string, personId: created.id };
    }
    const notices = (referralId: string, kind: string) =>
      testKnex()('notifications').where({ subject_id: referralId, kind }).orderBy('recipient_id');

    it("when the file has another active référent, then the référent gets the escalation at day 5, and the expiry notice and the 'Réorienter' follow-up at day 10", async () => {
      const { id, personId } = await leaversReferral({ referentId: w.team.worker2.id });

      const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
      clock.set(escalation.due_at);
      expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
      expect((await notices(id, 'referral.escalated')).map((n) => n.recipient_id)).toEqual([
        w.team.worker2.id,
      ]);

      const [expiry] = await deadlinesOf(id, REFERRAL_EXPIRE);
      clock.set(expiry.due_at);
      expect(await run(REFERRAL_EXPIRE, expiry.id)).toBe('done');
      expect((await notices(id, 'referral.expired')).map((n) => n.recipient_id)).toEqual([
        w.team.worker2.id,
      ]);
      const followUps = await testKnex()('follow_ups').where({ person_id: personId });
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        assignee_id: w.team.worker2.id,
        title: 'Réorienter : la demande au partenaire a expiré sans réponse',
      });
    });

    it('when the file has another active référent, then that référent may send the link again and cancel the referral, and is offered both; another worker still may not (403)', async () => {
      const { id } = await leaversReferral({ referentId: w.team.worker2.id });
      const cancel = { to: 'cancelled', reason: 'La personne a déménagé' };

      expect((await w.agents.worker.post(`/api/referrals/${id}/resend-link`)).status).toBe(403);
      const refused = await w.agents.worker.post(`/api/referrals/${id}/transitions`).send(cancel);
      expect(refused.status).toBe(403);
      const other = await w.agents.worker.get(`/orientations/${id}`);
      expect(other.text).not.toContain('Renvoyer le lien au partenaire');
      expect(other.text).not.toContain('Annuler la demande');

      const page = await w.agents.worker2.get(`/orientations/${id}`);
      expect(page.text).toContain('Renvoyer le lien au partenaire');
      expect(page.text).toContain('Annuler la demande');
      const resent = await w.agents.worker2.post(`/api/referrals/${id}/resend-link`);
      expect(resent.status).toBe(202);
      const cancelled = await w.agents.worker2
        .post(`/api/referrals/${id}/transitions`)
        .send(cancel);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
    });

    it("when the file has no active référent, then the structure's managers get the escalation and the partner's answer", async () => {
      const { id } = await leaversReferral({});
      const [escalation] = await deadlinesOf(id, REFERRAL_ESCALATE_REQUESTER);
      clock.set(escalation.due_at);
      expect(await run(REFERRAL_ESCALATE_REQUESTER, escalation.id)).toBe('done');
      expect((await notices(id, 'referral.escalated')).map((n) => n.recipient_id)).toEqual([
        w.team.manager.id,
      ]);

      const accepted = await w.agents.partner
        .post(`/api/referrals/${id}/transitions`)
        .send({ to: 'accepted' });
      expect(accepted.status).toBe(200);
      expect((await notices(id, 'referral.accepted')).map((n) => n.recipient_id)).toEqual([
        w.team.manager.id,
      ]);
    });
  });

  describe('closing the loop, 10 business days after the partner accepted', () => {
    const accept = async (id: string) => {
      const res = await w.agents.partner
        .post(`/api/referrals/${id}/transitions`)
        .send({ to: 'accepted' });
      expect(res.status).toBe(200);
    };
    const followUpsOf = (personId: string) =>
      testKnex()('follow_ups').where({ person_id: personId }).orderBy('created_at');

    it.each([
      // Tuesday 24 Nov 10:00 + 10 business days: Tuesday 8 Dec 10:00, a working moment.
      ['in working hours', '2026-11-24T10:00:00+01:00', '2026-12-08T10:00:00+01:00'],
      // 19:30 is after hours: Tuesday 8 Dec 19:30 waits for Wednesday 9 Dec 08:30.
      ['after working hours', '2026-11-24T19:30:00+01:00', '2026-12-09T08:30:00+01:00'],
      // Thursday 24 Dec: Christmas and New Year's Day do not count, day 10 is Monday 11 Jan.
      ['before the holidays', '2026-12-24T10:00:00+01:00', '2027-01-11T10:00:00+01:00'],
    ])(
      "when the partner accepts %s, then the outcome question and the referent's follow-up are due 10 business days later at the next working moment",
      async (_when, acceptedAt, due) => {
        const id = await newReferral();
        clock.set(acceptedAt);
        await accept(id);
        expect(await dueDates(id, REFERRAL_ASK_OUTCOME)).toEqual([iso(due)]);
        expect(await dueDates(id, REFERRAL_OUTCOME_FOLLOW_UP)).toEqual([iso(due)]);
      },
    );

    it("when the outcome question is due, then the partner is asked by email and the person's referent gets one follow-up to update the right, even if the job runs twice", async () => {
      const person = await createPerson(w.agents.worker, { referentId: w.team.worker2.id });
      await giveConsent(w.agents.worker, person.id, w.food.partner.id);
      const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
      await accept(id);
      const [question] = await deadlinesOf(id, REFERRAL_ASK_OUTCOME);
      const [planning] = await deadlinesOf(id, REFERRAL_OUTCOME_FOLLOW_UP);
      clock.set(question.due_at);

      const before = smtp.received.length;
      expect(await run(REFERRAL_ASK_OUTCOME, question.id)).toBe('done');
      const email = (await smtp.waitFor(before + 1))[before];
      expect(email.subject).toContain("L'aide a-t-elle pu être apportée");
      expect((await request(ctx.app).get(linkIn(email).path)).status).toBe(200);
      // The email plans nothing: the follow-up is its sibling deadline's.
      expect(await followUpsOf(person.id)).toEqual([]);
      expect(await run(REFERRAL_OUTCOME_FOLLOW_UP, planning.id)).toBe('done');

      const followUps = await followUpsOf(person.id);
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        assignee_id: w.team.worker2.id,
        status: 'open',
        title: "Mettre à jour les droits : l'aide de Banque alimentaire a-t-elle abouti ?",
      });
      expect(new Date(followUps[0].due_at).toISOString()).toBe(
        new Date(question.due_at).toISOString(),
      );
      // It is a follow-up like any other: due in the referent's list, with its own due deadline.
      const mine = await w.agents.worker2.get('/api/follow-ups?assignee=me');
      expect(mine.body.items.map((f: { id: string }) => f.id)).toContain(followUps[0].id);
      expect(
        await testKnex()('deadlines').where({
          subject_id: followUps[0].id,
          kind: 'follow_up.due',
          status: 'pending',
        }),
      ).toHaveLength(1);

      await redeliver(question.id);
      expect(await run(REFERRAL_ASK_OUTCOME, question.id)).toBe('skipped');
      await redeliver(planning.id);
      expect(await run(REFERRAL_OUTCOME_FOLLOW_UP, planning.id)).toBe('skipped');
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.received.length).toBe(before + 1);
      expect(await followUpsOf(person.id)).toHaveLength(1);
    });

    it('when the person has no referent, then the requester gets the follow-up; when reminders are paused, the follow-up is planned without the email', async () => {
      const id = await newReferral({ person: { pauseReminders: true } });
      await accept(id);
      const [question] = await deadlinesOf(id, REFERRAL_ASK_OUTCOME);
      const [planning] = await deadlinesOf(id, REFERRAL_OUTCOME_FOLLOW_UP);
      clock.set(question.due_at);
      const before = smtp.received.length;
      expect(await run(REFERRAL_ASK_OUTCOME, question.id)).toBe('skipped');
      expect(await run(REFERRAL_OUTCOME_FOLLOW_UP, planning.id)).toBe('done');
      const personId = (await w.agents.worker.get(`/api/referrals/${id}`)).body.personId;
      const followUps = await followUpsOf(personId);
      expect(followUps.map((f) => f.assignee_id)).toEqual([w.team.worker.id]);
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.received.length).toBe(before);
    });

    it('when the referral was completed before the question ran, then both deadlines are cancelled and neither the email nor the follow-up happens', async () => {
      const id = await newReferral();
      await accept(id);
      const [question] = await deadlinesOf(id, REFERRAL_ASK_OUTCOME);
      const [planning] = await deadlinesOf(id, REFERRAL_OUTCOME_FOLLOW_UP);
      await w.agents.partner.post(`/api/referrals/${id}/transitions`).send({ to: 'completed' });
      for (const d of [question, planning])
        expect((await testKnex()('deadlines').where({ id: d.id }).first()).status).toBe(
          'cancelled',
        );
      // Forced back to pending, as jobs that raced the move: each sees the referral closed.
      await redeliver(question.id);
      expect(await run(REFERRAL_ASK_OUTCOME, question.id)).toBe('skipped');
      await redeliver(planning.id);
      expect(await run(REFERRAL_OUTCOME_FOLLOW_UP, planning.id)).toBe('skipped');
      const personId = (await w.agents.worker.get(`/api/referrals/${id}`)).body.personId;
      expect(await followUpsOf(personId)).toEqual([]);
    });
  });
});
