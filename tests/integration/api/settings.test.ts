import { fixedClock } from '../../../server/lib/clock';
import {
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_REMIND_PARTNER,
} from '../../../server/features/referrals/referral-schemas';
import { deadlineJobId } from '../../../jobs/queues';
import {
  DIGEST_DAILY,
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  PERSON_NO_CONTACT,
} from '../../../server/features/deadlines/rule-kinds';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';
import { auditRows, type Agent } from './helpers';

// A Tuesday morning in Paris.
const NOW = '2026-11-24T10:00:00+01:00';

const pendingOf = (referralId: string, kind: string) =>
  testKnex()('deadlines')
    .where({ subject_id: referralId, kind, status: 'pending' })
    .orderBy('due_at')
    .select('id', 'due_at') as Promise<{ id: string; due_at: Date }[]>;

describe('structure settings API', () => {
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let otherAdmin: Agent;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    w = await referralWorld(ctx.app);
    const other = await createTeam();
    otherAdmin = await loginAs(ctx.app, other.admin.email);
  });
  afterAll(async () => ctx.close());

  const fields = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);

  it('when an admin reads the settings of a new structure, then the spec defaults at version 1', async () => {
    const res = await w.agents.admin.get('/api/settings');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      followUpReminderDays: 3,
      followUpEscalationDays: 10,
      referralResponseDays: 5,
      referralExpiryDays: 10,
      loopClosingDays: 10,
      noContactDays: 30,
      noContactCloseDays: 90,
      reportTriageDays: 5,
      digestTime: '08:30',
      workingHours: { start: '08:30', end: '18:00' },
      smallCountThreshold: 5,
      retentionMonths: 24,
      version: 1,
    });
  });

  it('when someone other than an admin asks for the settings, then 403', async () => {
    for (const agent of [w.agents.worker, w.agents.manager, w.agents.observer, w.agents.partner]) {
      expect((await agent.get('/api/settings')).status).toBe(403);
      expect(
        (await agent.patch('/api/settings').send({ version: 1, noContactDays: 40 })).status,
      ).toBe(403);
    }
  });

  it('when a setting is out of range, of the wrong type or unknown, then 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ version: 1, followUpReminderDays: 0 }, 'followUpReminderDays'],
      [{ version: 1, digestTime: '25:00' }, 'digestTime'],
      [{ version: 1, workingHours: { start: '18:00', end: '08:30' } }, 'workingHours.end'],
      [{ version: 1, retentionMonths: 'beaucoup' }, 'retentionMonths'],
      [{ version: 1, colour: 'red' }, 'colour'],
      [{ version: 1 }, 'version'],
      // Checked against what is stored: escalation must come after the reminder.
      [{ version: 1, followUpEscalationDays: 2 }, 'followUpEscalationDays'],
    ];
    for (const [body, field] of cases) {
      const res = await w.agents.admin.patch('/api/settings').send(body);
      expect(res.status).toBe(400);
      expect(fields(res)).toContain(field);
    }
    expect((await w.agents.admin.get('/api/settings')).body.version).toBe(1);
  });

  it('when the digest time would fall outside working hours, then 400 naming digestTime, whichever of the two the change sends', async () => {
    const cases: Record<string, unknown>[] = [
      // Working hours stored: 08:30 to 18:00, the end excluded.
      { version: 1, digestTime: '07:45' },
      { version: 1, digestTime: '18:00' },
      { version: 1, digestTime: '19:00', workingHours: { start: '08:30', end: '19:00' } },
      // Working hours moved past the stored digest time (08:30).
      { version: 1, workingHours: { start: '09:00', end: '18:00' } },
    ];
    for (const body of cases) {
      const res = await w.agents.admin.patch('/api/settings').send(body);
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual(['digestTime']);
    }
    expect((await w.agents.admin.get('/api/settings')).body.version).toBe(1);
  });

  it('when an admin changes some settings, then the others stay, the version moves on, it is audited, and another structure is untouched', async () => {
    const res = await w.agents.admin
      .patch('/api/settings')
      .send({ version: 1, noContactDays: 45, digestTime: '09:30' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      noContactDays: 45,
      digestTime: '09:30',
      followUpReminderDays: 3,
      version: 2,
    });
    expect((await w.agents.admin.get('/api/settings')).body).toMatchObject({
      noContactDays: 45,
      version: 2,
    });
    expect((await otherAdmin.get('/api/settings')).body).toMatchObject({
      noContactDays: 30,
      version: 1,
    });
    const audit = await auditRows({ action: 'settings.update', structure_id: w.team.structure.id });
    expect(audit).toHaveLength(1);
  });

  it('when an admin writes with a version read before another change, then 409 stale_version with the current settings', async () => {
    const res = await w.agents.admin.patch('/api/settings').send({ version: 1, noContactDays: 60 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('stale_version');
    expect(res.body.error.details.current).toMatchObject({ noContactDays: 45, version: 2 });
  });

  it('when an admin sends no version (the contract leaves it out), then the change is saved and the version moves on', async () => {
    const res = await w.agents.admin.patch('/api/settings').send({ retentionMonths: 36 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ retentionMonths: 36, noContactDays: 45, version: 3 });
    const stale = await w.agents.admin
      .patch('/api/settings')
      .send({ version: 2, retentionMonths: 30 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(stale.body.error.details.current).toMatchObject({ retentionMonths: 36, version: 3 });
  });

  describe('re-planning', () => {
    let referralId: string;
    beforeAll(async () => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.other.id);
      // No service: the structure's response delay applies.
      const res = await refer(w.agents.worker, person.id, w.other.id);
      expect(res.status).toBe(201);
      referralId = res.body.id;
    });

    it('when the expiry and response delays change, then the pending deadlines of open referrals move, and their jobs with them', async () => {
      const [expire] = await pendingOf(referralId, REFERRAL_EXPIRE);
      // Tuesday 24 November + 10 business days = Tuesday 8 December, same time.
      expect(new Date(expire.due_at).toISOString()).toBe('2026-12-08T09:00:00.000Z');
      const [escalation] = await pendingOf(referralId, REFERRAL_ESCALATE_REQUESTER);
      expect(new Date(escalation.due_at).toISOString()).toBe('2026-12-01T09:00:00.000Z');

      const version = (await w.agents.admin.get('/api/settings')).body.version;
      const res = await w.agents.admin
        .patch('/api/settings')
        .send({ version, referralResponseDays: 7, referralExpiryDays: 15 });
      expect(res.status).toBe(200);
      expect(res.body.replanned).toBeGreaterThanOrEqual(3);

      const [moved] = await pendingOf(referralId, REFERRAL_EXPIRE);
      // + 15 business days: Tuesday 15 December.
      expect(new Date(moved.due_at).toISOString()).toBe('2026-12-15T09:00:00.000Z');
      expect(moved.id).not.toBe(expire.id);
      const old = await testKnex()('deadlines').where({ id: expire.id }).first();
      expect(old.status).toBe('cancelled');
      // + 7 business days: Thursday 3 December.
      const [escalated] = await pendingOf(referralId, REFERRAL_ESCALATE_REQUESTER);
      expect(new Date(escalated.due_at).toISOString()).toBe('2026-12-03T09:00:00.000Z');
      const reminders = await pendingOf(referralId, REFERRAL_REMIND_PARTNER);
      expect(reminders.map((r) => new Date(r.due_at).toISOString())).toEqual([
        '2026-11-27T09:00:00.000Z',
        '2026-12-03T09:00:00.000Z',
      ]);

      // The queue follows: the old job is gone, the new one waits until the new moment.
      expect(await ctx.deps.queue.getJob(deadlineJobId(expire.id))).toBeUndefined();
      const job = await ctx.deps.queue.getJob(deadlineJobId(moved.id));
      expect(job).toBeDefined();
      expect(job!.opts.delay).toBe(
        new Date('2026-12-15T09:00:00.000Z').getTime() - new Date(NOW).getTime(),
      );
    });

    it('when working hours start later, then a partner email due at the old opening waits for the new one', async () => {
      // Planned on Saturday: the email waits for Monday's opening.
      ctx.deps.clock.now = () => new Date('2026-11-28T11:00:00+01:00');
      try {
        const person = await createPerson(w.agents.worker);
        await giveConsent(w.agents.worker, person.id, w.other.id);
        const res = await refer(w.agents.worker, person.id, w.other.id);
        expect(res.status).toBe(201);
        const [email] = await pendingOf(res.body.id, 'referral.email_partner');
        expect(new Date(email.due_at).toISOString()).toBe('2026-11-30T07:30:00.000Z');
        const version = (await w.agents.admin.get('/api/settings')).body.version;
        const patch = await w.agents.admin
          .patch('/api/settings')
          .send({ version, workingHours: { start: '09:15', end: '17:30' } });
        expect(patch.status).toBe(200);
        const [moved] = await pendingOf(res.body.id, 'referral.email_partner');
        expect(new Date(moved.due_at).toISOString()).toBe('2026-11-30T08:15:00.000Z');
      } finally {
        ctx.deps.clock.now = () => new Date(NOW);
      }
    });

    it('when a new referral is made, then it is planned with the settings in force', async () => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.other.id);
      const res = await refer(w.agents.worker, person.id, w.other.id);
      const [expire] = await pendingOf(res.body.id, REFERRAL_EXPIRE);
      expect(new Date(expire.due_at).toISOString()).toBe('2026-12-15T09:00:00.000Z');
    });
  });
  describe('re-planning the partner reminders when the response delay crosses 3 days', () => {
    /** At another moment of the fixed clock, then back to NOW. */
    async function at<T>(moment: string, fn: () => Promise<T>): Promise<T> {
      ctx.deps.clock.now = () => new Date(moment);
      try {
        return await fn();
      } finally {
        ctx.deps.clock.now = () => new Date(NOW);
      }
    }

    /** A structure of its own, at this response delay, and a way to refer and to change it. */
    async function world(responseDays: number) {
      const v = await referralWorld(ctx.app);
      const setDelay = async (referralResponseDays: number) => {
        const { version } = (await v.agents.admin.get('/api/settings')).body;
        const res = await v.agents.admin
          .patch('/api/settings')
          .send({ version, referralResponseDays });
        expect(res.status).toBe(200);
      };
      if (responseDays !== 5) await setDelay(responseDays);
      const newReferral = async () => {
        const person = await createPerson(v.agents.worker);
        await giveConsent(v.agents.worker, person.id, v.other.id);
        const res = await refer(v.agents.worker, person.id, v.other.id);
        expect(res.status).toBe(201);
        return res.body.id as string;
      };
      return { setDelay, newReferral };
    }

    const remindersOf = (referralId: string) =>
      testKnex()('deadlines')
        .where({ subject_id: referralId, kind: REFERRAL_REMIND_PARTNER })
        .orderBy('due_at')
        .orderBy('created_at')
        .select('id', 'status', 'due_at');
    const pendingAt = async (referralId: string) =>
      (await pendingOf(referralId, REFERRAL_REMIND_PARTNER)).map((d) =>
        new Date(d.due_at).toISOString(),
      );
    /** The worker delivered the deadlines of these kinds due by then (their rows say so). */
    const delivered = (referralId: string, kinds: string[], by: string) =>
      testKnex()('deadlines')
        .where({ subject_id: referralId, status: 'pending' })
        .whereIn('kind', kinds)
        .andWhere('due_at', '<=', new Date(by))
        .update({ status: 'done', processed_at: new Date(by) });

    it('when the delay goes from 5 to 3 days, then one reminder stays on day 3 (no second one at the same moment), and a referral reminded on day 3 already gets none again', async () => {
      const { setDelay, newReferral } = await world(5);
      // Sent now (Tuesday 24 November): reminders on Friday 27 November and Tuesday 1 December.
      const fresh = await newReferral();
      expect(await pendingAt(fresh)).toEqual([
        '2026-11-27T09:00:00.000Z',
        '2026-12-01T09:00:00.000Z',
      ]);
      // Sent on Wednesday 18 November: its day 3 (Monday 23) is past and was reminded.
      const reminded = await at('2026-11-18T10:00:00+01:00', newReferral);
      await delivered(reminded, [REFERRAL_REMIND_PARTNER], NOW);
      expect(await pendingAt(reminded)).toEqual(['2026-11-25T09:00:00.000Z']);

      await setDelay(3);

      expect(await pendingAt(fresh)).toEqual(['2026-11-27T09:00:00.000Z']);
      const [onDay3, onDay5] = await remindersOf(fresh);
      expect(onDay3.status).toBe('pending');
      expect(onDay5.status).toBe('cancelled');
      expect(await ctx.deps.queue.getJob(deadlineJobId(onDay5.id))).toBeUndefined();
      const [escalation] = await pendingOf(fresh, REFERRAL_ESCALATE_REQUESTER);
      expect(new Date(escalation.due_at).toISOString()).toBe('2026-11-27T09:00:00.000Z');
      // Day 3 was its reminder: nothing more for the partner.
      expect(await pendingAt(reminded)).toEqual([]);
      expect((await remindersOf(reminded)).map((d) => d.status)).toEqual(['done', 'cancelled']);
    });

    it('when the delay goes from 3 to 5 days, then the reminder of day 3 stays and one is added on day 5, while a referral reminded on day 3 already gets only the one of day 5', async () => {
      const { setDelay, newReferral } = await world(3);
      const fresh = await newReferral();
      const [day3] = await pendingOf(fresh, REFERRAL_REMIND_PARTNER);
      expect(await pendingAt(fresh)).toEqual(['2026-11-27T09:00:00.000Z']);
      // Sent on Wednesday 18 November: reminded and escalated on its day 3, Monday 23.
      const reminded = await at('2026-11-18T10:00:00+01:00', newReferral);
      await delivered(reminded, [REFERRAL_REMIND_PARTNER, REFERRAL_ESCALATE_REQUESTER], NOW);
      expect(await pendingAt(reminded)).toEqual([]);

      await setDelay(5);

      expect(await pendingAt(fresh)).toEqual([
        '2026-11-27T09:00:00.000Z',
        '2026-12-01T09:00:00.000Z',
      ]);
      const [kept, added] = await pendingOf(fresh, REFERRAL_REMIND_PARTNER);
      expect(kept.id).toBe(day3.id);
      expect(await ctx.deps.queue.getJob(deadlineJobId(added.id))).toBeDefined();
      // Wednesday 25 November, its day 5; day 3 is not sent again.
      expect(await pendingAt(reminded)).toEqual(['2026-11-25T09:00:00.000Z']);
      expect((await remindersOf(reminded)).map((d) => d.status)).toEqual(['done', 'pending']);
    });
  });

  describe('re-planning the reminder rules', () => {
    it('when the reminder and no-contact durations change, then a follow-up’s pending reminder and a person’s no-contact deadline move, and the escalation stays', async () => {
      const person = await createPerson(w.agents.worker);
      const contact = await w.agents.worker
        .post(`/api/persons/${person.id}/contacts`)
        .send({ occurredAt: '2026-11-23T10:00:00+01:00', channel: 'street', outcome: 'reached' });
      expect(contact.status).toBe(201);
      const followUp = await w.agents.worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ dueAt: '2026-11-25T10:00:00+01:00', title: 'Rappeler pour la CSS' });
      expect(followUp.status).toBe(201);

      const [reminder] = await pendingOf(followUp.body.id, FOLLOW_UP_OVERDUE_REMINDER);
      // Wednesday 25 November + 3 business days: Monday 30 November.
      expect(new Date(reminder.due_at).toISOString()).toBe('2026-11-30T09:00:00.000Z');
      const [escalation] = await pendingOf(followUp.body.id, FOLLOW_UP_ESCALATE);
      expect(new Date(escalation.due_at).toISOString()).toBe('2026-12-09T09:00:00.000Z');
      const [noContact] = await pendingOf(person.id, PERSON_NO_CONTACT);
      // Monday 23 November + 45 days (set above): Thursday 7 January.
      expect(new Date(noContact.due_at).toISOString()).toBe('2027-01-07T09:00:00.000Z');

      const version = (await w.agents.admin.get('/api/settings')).body.version;
      const res = await w.agents.admin
        .patch('/api/settings')
        .send({ version, followUpReminderDays: 5, noContactDays: 30 });
      expect(res.status).toBe(200);

      const [movedReminder] = await pendingOf(followUp.body.id, FOLLOW_UP_OVERDUE_REMINDER);
      expect(new Date(movedReminder.due_at).toISOString()).toBe('2026-12-02T09:00:00.000Z');
      expect(await ctx.deps.queue.getJob(deadlineJobId(reminder.id))).toBeUndefined();
      expect(await ctx.deps.queue.getJob(deadlineJobId(movedReminder.id))).toBeDefined();
      const [sameEscalation] = await pendingOf(followUp.body.id, FOLLOW_UP_ESCALATE);
      expect(sameEscalation.id).toBe(escalation.id);
      const [movedNoContact] = await pendingOf(person.id, PERSON_NO_CONTACT);
      expect(new Date(movedNoContact.due_at).toISOString()).toBe('2026-12-23T09:00:00.000Z');
    });
  });
  describe('re-planning the digest', () => {
    it('when the digest time changes, then the pending digest moves to the new time of its day, and its job with it', async () => {
      expect(await ctx.deps.services.digests.ensurePlanned()).toBeGreaterThanOrEqual(1);
      const digestOf = () =>
        testKnex()('deadlines')
          .where({ subject_id: w.team.structure.id, kind: DIGEST_DAILY, status: 'pending' })
          .select('id', 'due_at') as Promise<{ id: string; due_at: Date }[]>;
      const [planned] = await digestOf();
      // Tuesday 24 November 10:00 in Paris: the next digest is Wednesday's, at 09:30 (set above).
      expect(new Date(planned.due_at).toISOString()).toBe('2026-11-25T08:30:00.000Z');

      const version = (await w.agents.admin.get('/api/settings')).body.version;
      const res = await w.agents.admin
        .patch('/api/settings')
        .send({ version, digestTime: '10:45' });
      expect(res.status).toBe(200);

      const moved = await digestOf();
      expect(moved).toHaveLength(1);
      expect(new Date(moved[0].due_at).toISOString()).toBe('2026-11-25T09:45:00.000Z');
      expect(await ctx.deps.queue.getJob(deadlineJobId(planned.id))).toBeUndefined();
      expect(await ctx.deps.queue.getJob(deadlineJobId(moved[0].id))).toBeDefined();
    });
  });
  describe('re-planning only what a change moves', () => {
    /** The statements sent while `fn` runs. */
    const statementsDuring = async (fn: () => Promise<unknown>) => {
      const seen: { sql: string; bindings: unknown[] }[] = [];
      const listen = (q: { sql: string; bindings?: unknown[] }) =>
        seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      ctx.deps.knex.on('query', listen);
      try {
        await fn();
      } finally {
        ctx.deps.knex.off('query', listen);
      }
      return seen;
    };
    const pendingIds = async () =>
      (
        await testKnex()('deadlines')
          .where({ structure_id: w.team.structure.id, status: 'pending' })
          .orderBy('id')
          .select('id')
      ).map((r: { id: string }) => r.id);

    it('when an admin changes the letterhead, the small-count threshold or the second factor, then no pending deadline is read or moved', async () => {
      const before = await pendingIds();
      // Referrals, follow-ups, persons and the digest of the tests above are waiting.
      expect(before.length).toBeGreaterThanOrEqual(10);
      const version = (await w.agents.admin.get('/api/settings')).body.version;
      let res: { status: number; body: { replanned: number } } | undefined;
      const statements = await statementsDuring(async () => {
        res = await w.agents.admin.patch('/api/settings').send({
          version,
          letterhead: { name: 'CCAS d’Angers', addressLines: [], phone: '', email: '' },
          smallCountThreshold: 7,
          requireTwoFactor: false,
        });
      });
      expect(res!.status).toBe(200);
      expect(res!.body.replanned).toBe(0);
      expect(statements.filter((q) => /\bdeadlines\b/.test(q.sql))).toEqual([]);
      expect(await pendingIds()).toEqual(before);
    });

    it('when only the digest time changes, then only the digest’s deadlines are read', async () => {
      const version = (await w.agents.admin.get('/api/settings')).body.version;
      let status = 0;
      const statements = await statementsDuring(async () => {
        status = (
          await w.agents.admin.patch('/api/settings').send({ version, digestTime: '10:15' })
        ).status;
      });
      expect(status).toBe(200);
      // The reads of pending deadlines by kind (moving the one read then reads it by id).
      const reads = statements.filter(
        (q) => /\bdeadlines\b/.test(q.sql) && /\bkind\b/.test(q.sql) && !/^\s*insert/i.test(q.sql),
      );
      expect(reads).toHaveLength(1);
      expect(reads[0].bindings).toContainEqual([DIGEST_DAILY]);
    });
  });

  describe('a shorter retention period', () => {
    const settingsNow = async () => (await w.agents.admin.get('/api/settings')).body;

    it('when the shorter period would anonymise files, then 422 retention_confirmation_required counting them and nothing saved; confirmed, it is saved and the count audited', async () => {
      // Idle for eight months: within 24, past 6.
      const idle = await createPerson(w.agents.worker, { alias: 'Homme ~60 ans, halle' });
      await testKnex()('persons')
        .where({ id: idle.id })
        .update({ last_activity_at: new Date('2026-03-20T10:00:00+01:00') });
      const before = await settingsNow();
      // The period in force (24 months or more, as an earlier test left it) keeps the file.
      const current = before.retentionMonths as number;
      expect(current).toBeGreaterThanOrEqual(24);

      const refused = await w.agents.admin
        .patch('/api/settings')
        .send({ version: before.version, retentionMonths: 6 });
      expect(refused.status).toBe(422);
      expect(refused.body.error).toMatchObject({
        code: 'retention_confirmation_required',
        details: { retentionMonths: 6, currentRetentionMonths: current, persons: 1, reports: 0 },
      });
      expect(await settingsNow()).toMatchObject({
        retentionMonths: current,
        version: before.version,
      });
      // Still a file: nothing was anonymised, now or at the next run.
      const runNow = await ctx.deps.services.retention.runStructure(w.team.structure.id, {
        dryRun: true,
      });
      expect(runNow.persons).toEqual([]);

      const confirmed = await w.agents.admin
        .patch('/api/settings')
        .send({ version: before.version, retentionMonths: 6, confirmRetention: true });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({ retentionMonths: 6, version: before.version + 1 });
      expect(confirmed.body).not.toHaveProperty('confirmRetention');
      const audit = (
        await auditRows({ action: 'settings.update', structure_id: w.team.structure.id })
      ).at(-1);
      expect(audit.details).toEqual({
        fields: ['retentionMonths'],
        replanned: 0,
        retentionConfirmed: { from: current, to: 6, persons: 1, reports: 0 },
      });
      // The dry run the nightly run will follow now names the file.
      const next = await ctx.deps.services.retention.runStructure(w.team.structure.id, {
        dryRun: true,
      });
      expect(next.persons.map((p) => p.id)).toEqual([idle.id]);
    });

    it('when a period is raised, or shortened with nothing to anonymise, then it is saved without confirmation', async () => {
      let { version } = await settingsNow();
      const raised = await w.agents.admin
        .patch('/api/settings')
        .send({ version, retentionMonths: 36 });
      expect(raised.status).toBe(200);
      version = raised.body.version;
      // Another structure, none of whose files is idle.
      const other = await otherAdmin.get('/api/settings');
      const shortened = await otherAdmin
        .patch('/api/settings')
        .send({ version: other.body.version, retentionMonths: 6 });
      expect(shortened.status).toBe(200);
      expect(shortened.body.retentionMonths).toBe(6);
      // A confirmation alone changes nothing: a setting is still needed.
      const alone = await w.agents.admin
        .patch('/api/settings')
        .send({ version, confirmRetention: true });
      expect(alone.status).toBe(400);
      expect(fields(alone)).toEqual(['version']);
    });
  });
});
