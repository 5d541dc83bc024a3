import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  DIGEST_DAILY,
  DIGEST_EMAIL,
  NOTIFY_DIGEST,
  NOTIFY_FOLLOW_UP_ESCALATED,
} from '../../../server/features/deadlines/rule-kinds';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { createFoodBank, giveConsent, refer } from '../referrals/helpers';
import { startSmtp } from '../referrals/smtp';
import { waitFor } from './helpers';
import { advanceTo, paris } from './time-machine';

/** Thursday 24 December 2026, 8:00 in Paris; Friday is Christmas. */
const START = paris('2026-12-24T08:00:00');
const ALIAS = 'Homme ~60 ans, quai Ligny';
const TITLE = 'Rappeler pour le dossier APL';

/** The line of a digest email that says where to see it. */
const linkLine = (text: string) =>
  text
    .split(/\r?\n/)
    .find((l) => l.startsWith('Pour les voir'))
    ?.trim();

const digestsOf = (userId: string) =>
  testKnex()('notifications')
    .where({ recipient_id: userId, kind: NOTIFY_DIGEST })
    .orderBy('due_moment');

describe('the daily digest at 08:30 on working days, through the real worker and a real SMTP server', () => {
  const clock = fixedClock(START);
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let worker: DeadlineWorker;
  let w: Awaited<ReturnType<typeof createTeam>> & {
    quiet: Awaited<ReturnType<typeof createUser>>;
    partner: Awaited<ReturnType<typeof createUser>>;
  };
  /** The digest emails (the partner's referral request goes to its own address too). */
  const digestEmails = () => smtp.received.filter((e) => e.subject.startsWith('aller-vers : '));
  let idle: Awaited<ReturnType<typeof createTeam>>;

  async function plan(email: string, dueAt: Date, paused = false) {
    const agent = await loginAs(ctx.app, email);
    const person = await agent.post('/api/persons').send({ alias: ALIAS, source: 'outreach' });
    expect(person.status).toBe(201);
    if (paused)
      await testKnex()('persons').where({ id: person.body.id }).update({ pause_reminders: true });
    const res = await agent
      .post(`/api/persons/${person.body.id}/follow-ups`)
      .send({ dueAt: dueAt.toISOString(), title: TITLE, allowPast: true });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  /**
   * A new structure's first digest, planned now rather than by the worker's next loop (which
   * runs every second here, so it may have planned it already): one pending digest either way.
   */
  async function planFirstDigest(structureId: string) {
    await ctx.deps.services.digests.ensurePlanned();
    expect(
      await testKnex()('deadlines').where({
        subject_id: structureId,
        kind: DIGEST_DAILY,
        status: 'pending',
      }),
    ).toHaveLength(1);
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({
      clock,
      env: { SMTP_URL: smtp.url, RELAY_INTERVAL_MS: '100', RECONCILE_INTERVAL_MS: '1000' },
    });
    const team = await createTeam();
    // A worker who turned digest emails off.
    const quiet = await createUser(team.structure.id, 'worker');
    await testKnex()('users').where({ id: quiet.id }).update({ email_notifications: false });
    // A partner user whose organisation has a referral waiting for its answer.
    const food = await createFoodBank();
    const partner = await createUser(team.structure.id, 'partner', { partnerId: food.partner.id });
    w = { ...team, quiet, partner };
    const [mobile] = await testKnex()('teams')
      .insert({ structure_id: team.structure.id, name: 'Équipe mobile' })
      .returning('id');
    await testKnex()('team_members').insert([
      { team_id: mobile.id, user_id: team.worker.id, is_lead: false },
      { team_id: mobile.id, user_id: team.manager.id, is_lead: true },
    ]);
    // The worker: one follow-up due today, one late since 9 December (escalated on the 23rd),
    // and one late about a person whose reminders are paused (counted nowhere).
    await plan(team.worker.email, paris('2026-12-24T14:00:00'));
    await plan(team.worker.email, paris('2026-12-09T10:00:00'));
    await plan(team.worker.email, paris('2026-12-10T10:00:00'), true);
    await plan(quiet.email, paris('2026-12-22T10:00:00'));
    const referrer = await loginAs(ctx.app, team.worker2.email);
    const referred = await referrer.post('/api/persons').send({ alias: ALIAS, source: 'outreach' });
    await giveConsent(referrer, referred.body.id, food.partner.id);
    expect((await refer(referrer, referred.body.id, food.partner.id)).status).toBe(201);
    // Another referral waiting for the partner, whose person's consent lapses at 08:15: the
    // partner's inbox no longer shows it, so its digest does not count it either.
    const lapsing = await referrer
      .post('/api/persons')
      .send({ alias: 'Femme ~30 ans, parvis de la gare', source: 'outreach' });
    const consent = await giveConsent(referrer, lapsing.body.id, food.partner.id);
    expect((await refer(referrer, lapsing.body.id, food.partner.id)).status).toBe(201);
    await testKnex()('consents')
      .where({ id: consent.id })
      .update({ expires_at: paris('2026-12-24T08:15:00') });
    // A structure with nothing waiting for anyone.
    idle = await createTeam();

    worker = await startDeadlineWorker(ctx.deps);
    // What fell due before 08:00 (the due notifications, reminders and the escalation).
    await advanceTo(ctx, clock, START);
  });
  afterAll(async () => {
    await worker.close();
    await ctx.close();
    await smtp.close();
  });

  it('when the worker runs, then every structure gets its next digest planned at 08:30 on the next working day', async () => {
    for (const s of [w.structure.id, idle.structure.id]) {
      const d = await waitFor(
        () =>
          testKnex()('deadlines')
            .where({ subject_id: s, kind: DIGEST_DAILY, status: 'pending' })
            .first(),
        'the digest to be planned',
      );
      expect(d.due_at).toEqual(paris('2026-12-24T08:30:00'));
    }
  });

  it('when 08:30 comes, then each user with something waiting gets one digest in the app, those who want it one email of counts and links without any person, and nobody else anything', async () => {
    await advanceTo(ctx, clock, paris('2026-12-24T08:29:00'));
    expect(await testKnex()('notifications').where({ kind: NOTIFY_DIGEST })).toHaveLength(0);
    expect(digestEmails()).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-24T08:30:00'));
    const [mine] = await digestsOf(w.worker.id);
    expect(mine).toMatchObject({
      title: 'Votre point du jour du jeudi 24 décembre',
      body: '1 suivi à faire aujourd’hui · 1 suivi en retard',
      link: '/mes-actions',
    });
    // Escalations only: the team's backlog, a manager's home.
    expect((await digestsOf(w.manager.id))[0]).toMatchObject({
      body: '1 suivi de votre équipe en retard qui vous a été signalé',
      link: '/',
    });
    expect((await digestsOf(w.partner.id))[0]).toMatchObject({
      body: '1 demande d’orientation en attente de votre réponse',
      link: '/orientations',
    });
    // What the partner's inbox shows waiting: the referral whose consent lapsed is in neither.
    const inbox = await (
      await loginAs(ctx.app, w.partner.email)
    ).get('/api/referrals?status=requested');
    expect(inbox.status).toBe(200);
    expect(inbox.body.total).toBe(1);
    // Email off: in the app all the same.
    expect((await digestsOf(w.quiet.id))[0]).toMatchObject({ body: '1 suivi en retard' });
    // Nothing waiting: nothing at all.
    for (const u of [w.worker2, w.observer, w.admin, idle.worker, idle.manager])
      expect(await digestsOf(u.id)).toHaveLength(0);
    expect(
      await testKnex()('deadlines')
        .where({ subject_id: idle.structure.id, kind: DIGEST_DAILY, status: 'skipped' })
        .first(),
    ).toMatchObject({ last_error: 'nothing to tell anyone' });

    await waitFor(async () => digestEmails().length >= 3, 'three digest emails');
    await new Promise((r) => setTimeout(r, 500));
    const emails = digestEmails();
    expect(emails).toHaveLength(3);
    const byRecipient = new Map(emails.map((e) => [e.to[0], e]));
    expect([...byRecipient.keys()].sort()).toEqual(
      [w.worker.email, w.manager.email, w.partner.email].sort(),
    );
    expect(byRecipient.get(w.partner.email)!.text).toContain(
      `Pour les voir : ${ctx.config.publicUrl}/orientations`,
    );
    const email = byRecipient.get(w.worker.email)!;
    expect(email.subject).toBe('aller-vers : votre point du jour du jeudi 24 décembre');
    expect(email.text).toContain('- 1 suivi à faire aujourd’hui');
    expect(email.text).toContain('- 1 suivi en retard');
    expect(linkLine(email.text)).toBe(`Pour les voir : ${ctx.config.publicUrl}/mes-actions`);
    expect(email.html).toContain(`href="${ctx.config.publicUrl}/mes-actions"`);
    expect(email.text).toContain(`${ctx.config.publicUrl}/mon-compte`);
    expect(byRecipient.get(w.manager.email)!.text).toContain(
      '- 1 suivi de votre équipe en retard qui vous a été signalé',
    );
    expect(linkLine(byRecipient.get(w.manager.email)!.text)).toBe(
      `Pour les voir : ${ctx.config.publicUrl}/`,
    );
    for (const e of emails) {
      // Counts and links only: neither the person nor the follow-up's own words.
      expect(e.raw).not.toContain('quai Ligny');
      expect(e.text + e.html).not.toContain(ALIAS);
      expect(e.text + e.html).not.toContain(TITLE);
    }
    // Through the email path: one sent_emails row per email deadline, its Message-ID.
    const sent = await testKnex()('sent_emails').where({ kind: DIGEST_EMAIL });
    expect(sent).toHaveLength(3);
    expect(emails.map((e) => e.messageId).sort()).toEqual(sent.map((s) => s.message_id).sort());
  });

  it('when Friday is Christmas, then the next digest is Monday 28 December, and a digest due on the holiday sends nothing', async () => {
    const next = await testKnex()('deadlines')
      .where({ subject_id: w.structure.id, kind: DIGEST_DAILY, status: 'pending' })
      .first();
    expect(next.due_at).toEqual(paris('2026-12-28T08:30:00'));

    // Planned by hand on the holiday (as a stale row would be): it runs, and sends nothing.
    const [holiday] = await testKnex()('deadlines')
      .insert({
        structure_id: w.structure.id,
        kind: DIGEST_DAILY,
        subject_type: 'structure',
        subject_id: w.structure.id,
        due_at: paris('2026-12-25T08:30:00'),
      })
      .returning('id');
    await ctx.deps.relay.enqueue([holiday.id]);
    const before = digestEmails().length;
    await advanceTo(ctx, clock, paris('2026-12-27T12:00:00'));
    expect(await testKnex()('deadlines').where({ id: holiday.id }).first()).toMatchObject({
      status: 'skipped',
      last_error: 'not a working day',
    });
    expect(await digestsOf(w.worker.id)).toHaveLength(1);
    expect(digestEmails()).toHaveLength(before);
  });

  it('when the worker turns digest emails off on Sunday, then Monday’s digest reaches them in the app only', async () => {
    const agent = await loginAs(ctx.app, w.worker.email);
    expect((await agent.get('/api/me/preferences')).body).toEqual({ emailNotifications: true });
    const off = await agent.patch('/api/me/preferences').send({ emailNotifications: false });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ emailNotifications: false });

    const before = digestEmails().length;
    await advanceTo(ctx, clock, paris('2026-12-28T08:30:00'));
    const mine = await digestsOf(w.worker.id);
    expect(mine).toHaveLength(2);
    expect(mine[1]).toMatchObject({ title: 'Votre point du jour du lundi 28 décembre' });
    // The manager's and the partner's emails only this time.
    await waitFor(async () => digestEmails().length >= before + 2, 'two more digest emails');
    await new Promise((r) => setTimeout(r, 500));
    const emails = digestEmails();
    expect(emails).toHaveLength(before + 2);
    expect(
      emails
        .slice(before)
        .map((e) => e.to[0])
        .sort(),
    ).toEqual([w.manager.email, w.partner.email].sort());
  });
  describe('a manager’s escalation line', () => {
    /** A structure of two teams, each led by its manager, at the clock's moment. */
    async function twoTeams() {
      const t = await createTeam();
      const lead2 = await createUser(t.structure.id, 'manager');
      const [a, b] = await testKnex()('teams')
        .insert([
          { structure_id: t.structure.id, name: 'Équipe mobile' },
          { structure_id: t.structure.id, name: 'Accueil' },
        ])
        .returning('id');
      await testKnex()('team_members').insert([
        { team_id: a.id, user_id: t.worker.id, is_lead: false },
        { team_id: a.id, user_id: t.manager.id, is_lead: true },
        { team_id: b.id, user_id: t.worker2.id, is_lead: false },
        { team_id: b.id, user_id: lead2.id, is_lead: true },
      ]);
      return { ...t, lead2, teamA: a.id as string };
    }
    const escalatedTo = (userId: string) =>
      testKnex()('notifications')
        .where({ recipient_id: userId, kind: NOTIFY_FOLLOW_UP_ESCALATED })
        .pluck('subject_id');
    const digestOn = (userId: string, at: Date) =>
      testKnex()('notifications')
        .where({ recipient_id: userId, kind: NOTIFY_DIGEST, due_moment: at })
        .first('body', 'link');
    let t: Awaited<ReturnType<typeof twoTeams>>;
    let late: string;

    it('when escalated follow-ups are rescheduled to next week or handed to another team, then the manager’s digest counts only the one still late in their team, and the other team’s manager counts the one handed over', async () => {
      t = await twoTeams();
      // Its first digest, Tuesday's, planned now rather than by the worker's next loop.
      await planFirstDigest(t.structure.id);
      // Monday 28 December: three follow-ups late since 9 December, escalated (on the 23rd) to
      // the manager leading the worker's team.
      const now = clock.now();
      const [moved, handed] = [
        await plan(t.worker.email, paris('2026-12-09T10:00:00')),
        await plan(t.worker.email, paris('2026-12-09T10:00:00')),
      ];
      late = await plan(t.worker.email, paris('2026-12-09T10:00:00'));
      // And the manager's own follow-up, due on Tuesday.
      await plan(t.manager.email, paris('2026-12-29T14:00:00'));
      await advanceTo(ctx, clock, now);
      expect((await escalatedTo(t.manager.id)).sort()).toEqual([moved, handed, late].sort());

      const worker = await loginAs(ctx.app, t.worker.email);
      const nextWeek = await worker
        .patch(`/api/follow-ups/${moved}`)
        .send({ dueAt: paris('2027-01-04T10:00:00').toISOString() });
      expect(nextWeek.status).toBe(200);
      const manager = await loginAs(ctx.app, t.manager.email);
      const toOtherTeam = await manager
        .patch(`/api/follow-ups/${handed}`)
        .send({ assigneeId: t.worker2.id });
      expect(toOtherTeam.status).toBe(200);
      await advanceTo(ctx, clock, now);
      // The escalations of the old due moment and of the old team are withdrawn; the one handed
      // over is escalated again, to the manager leading its new team.
      expect(await escalatedTo(t.manager.id)).toEqual([late]);
      expect(await escalatedTo(t.lead2.id)).toEqual([handed]);
      // A notice left by a reschedule before they were withdrawn counts no more either: it was
      // escalated from a due moment the follow-up no longer has.
      await testKnex()('notifications').insert({
        structure_id: t.structure.id,
        recipient_id: t.manager.id,
        kind: NOTIFY_FOLLOW_UP_ESCALATED,
        subject_type: 'follow_up',
        subject_id: moved,
        due_moment: paris('2026-12-23T10:00:00'),
        title: 'Suivi en retard de 10 jours ouvrés',
        link: '/',
      });

      const tuesday = paris('2026-12-29T08:30:00');
      await advanceTo(ctx, clock, tuesday);
      // The manager's own follow-up first: "Mes actions", not the team's backlog at "/".
      expect(await digestOn(t.manager.id, tuesday)).toEqual({
        body: '1 suivi à faire aujourd’hui · 1 suivi de votre équipe en retard qui vous a été signalé',
        link: '/mes-actions',
      });
      expect(await digestOn(t.lead2.id, tuesday)).toEqual({
        body: '1 suivi de votre équipe en retard qui vous a été signalé',
        link: '/',
      });
      await waitFor(
        async () => digestEmails().some((e) => e.to[0] === t.manager.email),
        'the manager’s digest email',
      );
      expect(linkLine(digestEmails().find((e) => e.to[0] === t.manager.email)!.text)).toBe(
        `Pour les voir : ${ctx.config.publicUrl}/mes-actions`,
      );
    });

    it('when a manager is made worker, then their digest has no escalation line, while a manager’s still has', async () => {
      await testKnex()('users').where({ id: t.manager.id }).update({ role: 'worker' });
      const wednesday = paris('2026-12-30T08:30:00');
      await advanceTo(ctx, clock, wednesday);
      expect(await escalatedTo(t.manager.id)).toContain(late);
      // Their own follow-up of Tuesday, late now, and nothing of the team.
      expect((await digestOn(t.manager.id, wednesday))?.body).toBe('1 suivi en retard');
      // The other team's manager: the one handed over, and the worker's, whose team no manager
      // leads now, so that escalations go to the structure's managers.
      expect((await digestOn(t.lead2.id, wednesday))?.body).toBe(
        '2 suivis de votre équipe en retard qui vous ont été signalés',
      );
    });

    let t2: Awaited<ReturnType<typeof twoTeams>>;
    let successor: Awaited<ReturnType<typeof createUser>>;

    it('when the team’s lead changes through the team’s form, then the new lead’s next digest has the escalation line and the former lead’s has not', async () => {
      t2 = await twoTeams();
      successor = await createUser(t2.structure.id, 'manager');
      await planFirstDigest(t2.structure.id);
      // Late since 9 December, escalated (on the 23rd) to the manager leading the worker's team.
      await plan(t2.worker.email, paris('2026-12-09T10:00:00'));
      await advanceTo(ctx, clock, clock.now());
      expect(await escalatedTo(t2.manager.id)).toHaveLength(1);

      const admin = await loginAs(ctx.app, t2.admin.email);
      const lead = await admin.patch(`/api/teams/${t2.teamA}`).send({ managerIds: [successor.id] });
      expect(lead.status).toBe(200);
      expect(lead.body.managers.map((m: { id: string }) => m.id)).toEqual([successor.id]);

      const thursday = paris('2026-12-31T08:30:00');
      await advanceTo(ctx, clock, thursday);
      expect(await digestOn(successor.id, thursday)).toEqual({
        body: '1 suivi de votre équipe en retard qui vous a été signalé',
        link: '/',
      });
      // Told at the time, no longer their team: nothing to tell them.
      expect(await digestOn(t2.manager.id, thursday)).toBeUndefined();
      expect(await digestOn(t2.lead2.id, thursday)).toBeUndefined();
    });

    it('when the team’s lead is disabled, then the structure’s active managers get the escalation line, as its escalations would go to them', async () => {
      const admin = await loginAs(ctx.app, t2.admin.email);
      const off = await admin.patch(`/api/users/${successor.id}`).send({ disabled: true });
      expect(off.status).toBe(200);

      const monday = paris('2027-01-04T08:30:00');
      await advanceTo(ctx, clock, monday);
      for (const m of [t2.manager, t2.lead2])
        expect(await digestOn(m.id, monday)).toEqual({
          body: '1 suivi de votre équipe en retard qui vous a été signalé',
          link: '/',
        });
      expect(await digestOn(successor.id, monday)).toBeUndefined();
    });
  });

  describe('after an outage', () => {
    const structureDigest = (at: Date) =>
      testKnex()('deadlines')
        .where({ subject_id: w.structure.id, kind: DIGEST_DAILY, due_at: at })
        .whereNot({ status: 'cancelled' })
        .first();

    it('when the worker is down from Tuesday 08:00 to Wednesday 10:00, then Tuesday’s digest ends skipped as past its day and Wednesday’s comes at once, with Wednesday’s date and counts', async () => {
      const tuesday = paris('2027-01-05T08:30:00');
      const wednesday = paris('2027-01-06T08:30:00');
      await advanceTo(ctx, clock, paris('2027-01-05T08:00:00'));
      // Due on Wednesday: Wednesday's digest has it for today, Tuesday's had nothing due that day.
      await plan(w.manager.email, paris('2027-01-06T14:00:00'));
      expect(await structureDigest(tuesday)).toMatchObject({ status: 'pending' });
      await worker.close();

      clock.set(paris('2027-01-06T10:00:00'));
      worker = await startDeadlineWorker(ctx.deps);
      await advanceTo(ctx, clock, clock.now());

      expect(await structureDigest(tuesday)).toMatchObject({
        status: 'skipped',
        last_error: 'past its day',
      });
      expect(
        await testKnex()('notifications').where({ kind: NOTIFY_DIGEST, due_moment: tuesday }),
      ).toHaveLength(0);
      expect(await structureDigest(wednesday)).toMatchObject({ status: 'done' });
      expect(
        await testKnex()('notifications')
          .where({ recipient_id: w.manager.id, kind: NOTIFY_DIGEST, due_moment: wednesday })
          .first('title', 'body'),
      ).toEqual({
        title: 'Votre point du jour du mercredi 6 janvier',
        body: '1 suivi à faire aujourd’hui · 1 suivi de votre équipe en retard qui vous a été signalé',
      });
      // And the next one as usual, on Thursday.
      expect(
        await testKnex()('deadlines')
          .where({ subject_id: w.structure.id, kind: DIGEST_DAILY, status: 'pending' })
          .pluck('due_at'),
      ).toEqual([paris('2027-01-07T08:30:00')]);
    });

    it('when a digest email is still to send after its day, then it ends skipped as past its day and sends nothing', async () => {
      const [late] = await testKnex()('deadlines')
        .insert({
          structure_id: w.structure.id,
          kind: DIGEST_EMAIL,
          subject_type: 'user',
          subject_id: w.manager.id,
          due_at: paris('2026-12-24T08:30:00'),
        })
        .returning('id');
      await ctx.deps.relay.enqueue([late.id]);
      const before = digestEmails().length;
      await advanceTo(ctx, clock, clock.now());
      expect(await testKnex()('deadlines').where({ id: late.id }).first()).toMatchObject({
        status: 'skipped',
        last_error: 'past its day',
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(digestEmails()).toHaveLength(before);
    });
  });

  describe('who gets no digest', () => {
    let d: Awaited<ReturnType<typeof createTeam>>;
    const digestOf = (userId: string, at: Date) =>
      testKnex()('notifications')
        .where({ recipient_id: userId, kind: NOTIFY_DIGEST, due_moment: at })
        .first();
    const emailRows = (userId: string, at: Date) =>
      testKnex()('deadlines').where({ kind: DIGEST_EMAIL, subject_id: userId, due_at: at });

    it('when a user is disabled after their digest, then its email still to send is skipped, and from the next day they get no digest', async () => {
      d = await createTeam();
      // Both workers late with a follow-up since Tuesday.
      await plan(d.worker.email, paris('2027-01-05T10:00:00'));
      await plan(d.worker2.email, paris('2027-01-05T10:00:00'));
      await planFirstDigest(d.structure.id);
      const thursday = paris('2027-01-07T08:30:00');
      await advanceTo(ctx, clock, thursday);
      expect(await digestOf(d.worker.id, thursday)).toBeDefined();
      await waitFor(
        async () => digestEmails().some((e) => e.to[0] === d.worker.email),
        'the worker’s digest email',
      );

      await advanceTo(ctx, clock, paris('2027-01-07T09:00:00'));
      const admin = await loginAs(ctx.app, d.admin.email);
      expect((await admin.patch(`/api/users/${d.worker.id}`).send({ disabled: true })).status).toBe(
        200,
      );
      // The day's email sent again, as a retry still running would: not to a disabled account.
      const [late] = await testKnex()('deadlines')
        .insert({
          structure_id: d.structure.id,
          kind: DIGEST_EMAIL,
          subject_type: 'user',
          subject_id: d.worker.id,
          due_at: thursday,
        })
        .returning('id');
      await ctx.deps.relay.enqueue([late.id]);
      const before = digestEmails().length;
      await advanceTo(ctx, clock, clock.now());
      expect(await testKnex()('deadlines').where({ id: late.id }).first()).toMatchObject({
        status: 'skipped',
        last_error: 'user disabled',
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(digestEmails()).toHaveLength(before);

      const friday = paris('2027-01-08T08:30:00');
      await advanceTo(ctx, clock, friday);
      expect(await digestOf(d.worker.id, friday)).toBeUndefined();
      expect(await emailRows(d.worker.id, friday)).toHaveLength(0);
      // Still late, and still a worker: the colleague's digest comes.
      expect(await digestOf(d.worker2.id, friday)).toMatchObject({ body: '1 suivi en retard' });
    });

    it('when a user is made observer, a role without digest, then they get no digest and no digest email, and a digest with no one else to tell is skipped', async () => {
      const admin = await loginAs(ctx.app, d.admin.email);
      const observer = await admin.patch(`/api/users/${d.worker2.id}`).send({ role: 'observer' });
      expect(observer.status).toBe(200);

      const monday = paris('2027-01-11T08:30:00');
      await advanceTo(ctx, clock, monday);
      expect(await digestOf(d.worker2.id, monday)).toBeUndefined();
      expect(await emailRows(d.worker2.id, monday)).toHaveLength(0);
      // Their late follow-up counts for nobody: nobody else of the structure has anything.
      expect(
        await testKnex()('deadlines')
          .where({ subject_id: d.structure.id, kind: DIGEST_DAILY, due_at: monday })
          .first(),
      ).toMatchObject({ status: 'skipped', last_error: 'nothing to tell anyone' });
    });
  });

  describe('a leaver’s referral', () => {
    it('when the requester is disabled and the file has an active référent, then after the escalation the référent’s digest counts the referral', async () => {
      const t = await createTeam();
      const food = await createFoodBank('Épicerie du port');
      const leaver = await createUser(t.structure.id, 'worker');
      // Monday 10:00: the answer delay ends on Monday 18 January at 10:00, after that digest.
      await advanceTo(ctx, clock, paris('2027-01-11T10:00:00'));
      await ctx.deps.services.digests.ensurePlanned();
      expect(
        await testKnex()('deadlines')
          .where({ subject_id: t.structure.id, kind: DIGEST_DAILY, status: 'pending' })
          .first(),
      ).toBeDefined();
      const agent = await loginAs(ctx.app, leaver.email);
      const person = await agent
        .post('/api/persons')
        .send({ alias: ALIAS, source: 'outreach', referentId: t.worker2.id });
      expect(person.status).toBe(201);
      await giveConsent(agent, person.body.id, food.partner.id);
      expect((await refer(agent, person.body.id, food.partner.id)).status).toBe(201);
      const admin = await loginAs(ctx.app, t.admin.email);
      expect((await admin.patch(`/api/users/${leaver.id}`).send({ disabled: true })).status).toBe(
        200,
      );

      await advanceTo(ctx, clock, paris('2027-01-18T10:00:00'));
      await waitFor(
        async () =>
          (
            await testKnex()('notifications').where({
              recipient_id: t.worker2.id,
              kind: 'referral.escalated',
            })
          ).length === 1,
        'the escalation to the référent',
      );
      const tuesday = paris('2027-01-19T08:30:00');
      await advanceTo(ctx, clock, tuesday);
      const digest = await waitFor(
        () =>
          testKnex()('notifications')
            .where({ recipient_id: t.worker2.id, kind: NOTIFY_DIGEST, due_moment: tuesday })
            .first(),
        'the référent’s digest',
      );
      expect(digest.body).toBe('1 orientation sans réponse du partenaire dans le délai');
    });
  });
});
