import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import {
  fileNotFollowed,
  PERSON_REMINDER_COLUMNS,
  remindersOff,
  remindersOnSql,
  toReminderState,
  type ReminderRow,
} from '../../../server/features/persons/person-reminders';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_EXPIRE,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld, type Agent } from '../referrals/helpers';
import { startSmtp } from '../referrals/smtp';
import { paris } from './time-machine';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** Tuesday 24 November 2026, 10:00 in Paris: a working moment. */
const TUESDAY = paris('2026-11-24T10:00:00');

describe('a closed file gets no automatic message and no automatic task, through the deadline processor', () => {
  const clock = fixedClock(TUESDAY);
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let w: World;
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

  const run = (d: { id: string; kind: string }) =>
    processDeadline(ctx.deps, processors, d.kind, d.id);

  /** Refers the person to a partner (with consent), its first email to the partner sent. */
  async function referTo(personId: string, partnerId: string) {
    await giveConsent(w.agents.worker, personId, partnerId);
    const res = await refer(w.agents.worker, personId, partnerId);
    expect(res.status).toBe(201);
    const first = await testKnex()('deadlines')
      .where({ subject_id: res.body.id, kind: REFERRAL_EMAIL_PARTNER })
      .first();
    expect(await run(first)).toBe('done');
    return res.body.id as string;
  }

  async function patchPerson(personId: string, body: Record<string, unknown>) {
    const { version } = (await w.agents.worker.get(`/api/persons/${personId}`)).body;
    const res = await w.agents.worker.patch(`/api/persons/${personId}`).send({ ...body, version });
    expect(res.status).toBe(200);
  }

  async function planFollowUp(agent: Agent, personId: string, dueAt: Date, title: string) {
    const res = await agent
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ dueAt: dueAt.toISOString(), title });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const notificationsOfStructure = () =>
    testKnex()('notifications').where({ structure_id: w.team.structure.id });

  it('when a deceased person’s file is closed, then its follow-up and referral deadlines skip, saying so, the referral still expires, and nobody is told or given a task; reopened, a later follow-up notifies again', async () => {
    const person = await createPerson(w.agents.worker);
    const followUpId = await planFollowUp(
      w.agents.worker,
      person.id,
      paris('2026-11-25T10:00:00'),
      'Rappeler pour le dossier APL',
    );
    // One referral waiting for the partner's answer, one the other partner accepted.
    const requested = await referTo(person.id, w.food.partner.id);
    const accepted = await referTo(person.id, w.other.id);
    const answer = await w.agents.outsider
      .post(`/api/referrals/${accepted}/transitions`)
      .send({ to: 'accepted' });
    expect(answer.status).toBe(200);

    await patchPerson(person.id, { closedReason: 'deceased' });
    const notificationsBefore = (await notificationsOfStructure()).length;
    const emailsBefore = smtp.received.length;

    // Everything the file, its follow-up and its referrals planned, due by the end of December:
    // the follow-up's due, overdue and escalation moments, the partner's reminders, the
    // escalation to the requester, the expiry, the loop closing and the no-contact rule.
    const due = await testKnex()('deadlines')
      .whereIn('subject_id', [person.id, followUpId, requested, accepted])
      .where({ status: 'pending' })
      .where('due_at', '<=', paris('2026-12-31T18:00:00'))
      .orderBy('due_at')
      .orderBy('kind');
    expect(due.map((d) => d.kind).sort()).toEqual(
      [
        'follow_up.due',
        'follow_up.escalate',
        'follow_up.overdue_reminder',
        'person.no_contact',
        'referral.ask_outcome',
        'referral.escalate_requester',
        'referral.expire',
        'referral.outcome_follow_up',
        'referral.remind_partner',
        'referral.remind_partner',
      ].sort(),
    );
    for (const d of due) {
      clock.set(d.due_at);
      await run(d);
    }

    const outcomes = await testKnex()('deadlines')
      .whereIn(
        'id',
        due.map((d) => d.id),
      )
      .orderBy('due_at')
      .orderBy('kind')
      .select('kind', 'status', 'last_error');
    expect(outcomes).toEqual(
      due.map(({ kind }) =>
        kind === REFERRAL_EXPIRE
          ? { kind, status: 'done', last_error: null }
          : { kind, status: 'skipped', last_error: 'file closed' },
      ),
    );
    // The partner never answered: the referral expired all the same.
    expect((await w.agents.worker.get(`/api/referrals/${requested}`)).body.status).toBe('expired');
    expect((await w.agents.worker.get(`/api/referrals/${accepted}`)).body.status).toBe('accepted');
    // No notification to anyone, no email to a partner, no follow-up planned ("Réorienter",
    // loop closing, "relancer"); the worker's own follow-up is left as it was.
    expect(await notificationsOfStructure()).toHaveLength(notificationsBefore);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received).toHaveLength(emailsBefore);
    expect(
      await testKnex()('sent_emails').whereIn(
        'deadline_id',
        due.map((d) => d.id),
      ),
    ).toHaveLength(0);
    const followUps = await testKnex()('follow_ups').where({ person_id: person.id });
    expect(followUps.map((f) => [f.id, f.status])).toEqual([[followUpId, 'open']]);

    // Reopened, the file's reminders are on again for what falls due from then on.
    clock.set(paris('2027-01-04T09:00:00'));
    await patchPerson(person.id, { closedReason: null });
    const later = await planFollowUp(
      w.agents.worker,
      person.id,
      paris('2027-01-05T10:00:00'),
      'Point sur la succession',
    );
    const [laterDue] = await testKnex()('deadlines').where({
      subject_id: later,
      kind: FOLLOW_UP_DUE,
    });
    clock.set(laterDue.due_at);
    expect(await run(laterDue)).toBe('done');
    const notes = await testKnex()('notifications').where({
      kind: FOLLOW_UP_DUE,
      subject_id: later,
    });
    expect(notes.map((n) => n.recipient_id)).toEqual([w.team.worker.id]);
  });

  it.each([
    ['completes', 'completed', {}],
    ['fails', 'failed', { reason: 'Personne injoignable' }],
  ] as const)(
    'when the partner %s a referral serving a right after the file was closed, then nobody is asked to update the right',
    async (_verb, to, extra) => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id);
      const created = await refer(w.agents.worker, person.id, w.food.partner.id, {
        rightCode: 'rsa',
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const move = (body: Record<string, string>) =>
        w.agents.partner.post(`/api/referrals/${id}/transitions`).send(body);
      expect((await move({ to: 'accepted' })).status).toBe(200);
      await patchPerson(person.id, { closedReason: 'moved' });

      expect((await move({ to, ...extra })).status).toBe(200);

      expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe(to);
      expect(await testKnex()('referral_follow_ups').where({ referral_id: id })).toHaveLength(0);
      expect(await testKnex()('follow_ups').where({ person_id: person.id })).toHaveLength(0);
    },
  );

  it('when reminders are paused (the file open), then the referral still expires with its notice and its "Réorienter" follow-up for the requester, as before', async () => {
    const person = await createPerson(w.agents.worker, { pauseReminders: true });
    const id = await referTo(person.id, w.food.partner.id);
    const expiry = await testKnex()('deadlines')
      .where({ subject_id: id, kind: REFERRAL_EXPIRE })
      .first();
    clock.set(expiry.due_at);

    expect(await run(expiry)).toBe('done');

    expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('expired');
    const followUps = await testKnex()('follow_ups').where({ person_id: person.id });
    expect(followUps.map((f) => [f.assignee_id, f.title])).toEqual([
      [w.team.worker.id, 'Réorienter : la demande au partenaire a expiré sans réponse'],
    ]);
    const notes = await testKnex()('notifications').where({
      kind: 'referral.expired',
      subject_id: id,
    });
    expect(notes.map((n) => n.recipient_id)).toEqual([w.team.worker.id]);
  });

  it('when files are open, paused, closed or anonymised, in any mix, then remindersOff and remindersOnSql agree', async () => {
    const flags = [false, true].flatMap((paused) =>
      [false, true].flatMap((closed) =>
        [false, true].map((anonymised) => ({ paused, closed, anonymised })),
      ),
    );
    const ids: string[] = [];
    for (const f of flags) {
      const { id } = await createPerson(w.agents.worker);
      await testKnex()('persons')
        .where({ id })
        .update({
          pause_reminders: f.paused,
          closed_at: f.closed ? TUESDAY : null,
          closed_reason: f.closed ? 'moved' : null,
          anonymised_at: f.anonymised ? TUESDAY : null,
        });
      ids.push(id);
    }

    const rows: ({ id: string; reminders_on: boolean } & ReminderRow)[] = await testKnex()(
      'persons as p',
    )
      .whereIn('p.id', ids)
      .select(
        'p.id',
        ...PERSON_REMINDER_COLUMNS,
        testKnex().raw(`(${remindersOnSql('p')}) AS reminders_on`),
      );
    expect(rows).toHaveLength(flags.length);
    const verdicts = ids.map((id) => {
      const row = rows.find((r) => r.id === id)!;
      const state = toReminderState(row);
      expect(row.reminders_on).toBe(remindersOff(state) === null);
      return [remindersOff(state), fileNotFollowed(state)];
    });
    // In the order of `flags`: paused, then closed, then anonymised.
    expect(verdicts).toEqual([
      [null, null],
      ['person no longer followed', 'person no longer followed'],
      ['file closed', 'file closed'],
      ['person no longer followed', 'person no longer followed'],
      ['reminders paused for this person', null],
      ['person no longer followed', 'person no longer followed'],
      ['file closed', 'file closed'],
      ['person no longer followed', 'person no longer followed'],
    ]);
  });
});
