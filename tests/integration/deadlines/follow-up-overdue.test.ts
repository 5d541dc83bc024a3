import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  NOTIFY_FOLLOW_UP_ESCALATED,
  NOTIFY_FOLLOW_UP_OVERDUE,
} from '../../../server/features/deadlines/rule-kinds';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { advanceTo, paris } from './time-machine';

/** Monday 7 December 2026, 9:00 in Paris. */
const START = paris('2026-12-07T09:00:00');

async function notes(recipientId: string, kind: string) {
  return testKnex()('notifications')
    .where({ recipient_id: recipientId, kind })
    .orderBy('created_at');
}

async function ruleDeadline(followUpId: string, kind: string) {
  return testKnex()('deadlines')
    .where({ subject_id: followUpId, kind })
    .orderBy('created_at', 'desc')
    .first();
}

/** A structure whose worker is in a team led by `lead`; `otherLead` leads another team. */
async function world() {
  const team = await createTeam();
  const otherLead = await createUser(team.structure.id, 'manager');
  const [mobile, welcome] = await testKnex()('teams')
    .insert([
      { structure_id: team.structure.id, name: 'Équipe mobile' },
      { structure_id: team.structure.id, name: 'Accueil' },
    ])
    .returning('id');
  await testKnex()('team_members').insert([
    { team_id: mobile.id, user_id: team.worker.id, is_lead: false },
    { team_id: mobile.id, user_id: team.manager.id, is_lead: true },
    { team_id: welcome.id, user_id: team.worker2.id, is_lead: false },
    { team_id: welcome.id, user_id: otherLead.id, is_lead: true },
  ]);
  return { ...team, otherLead };
}

async function plan(email: string, dueAt: Date, title = 'Rappeler pour le dossier APL') {
  const agent = await loginAs(ctxRef.app, email);
  const person = await agent
    .post('/api/persons')
    .send({ alias: 'Homme ~50 ans, parvis de la médiathèque', source: 'outreach' });
  expect(person.status).toBe(201);
  const res = await agent
    .post(`/api/persons/${person.body.id}/follow-ups`)
    .send({ dueAt: dueAt.toISOString(), title });
  expect(res.status).toBe(201);
  return { agent, personId: person.body.id as string, followUpId: res.body.id as string };
}

let ctxRef: TestContext;

describe('overdue follow-ups: a reminder at 3 business days, an escalation to the team managers at 10, through the real worker', () => {
  const clock = fixedClock(START);
  let ctx: TestContext;
  let worker: DeadlineWorker;
  beforeAll(async () => {
    ctx = await createTestContext({ clock, env: { RELAY_INTERVAL_MS: '100' } });
    ctxRef = ctx;
    worker = await startDeadlineWorker(ctx.deps);
  });
  afterAll(async () => {
    await worker.close();
    await ctx.close();
  });
  beforeEach(() => clock.set(START));

  it('when a follow-up stays open, then the reminder comes 3 business days after its due moment, not a minute before, and the escalation reaches only the managers leading the assignee’s team at 10', async () => {
    const w = await world();
    const due = paris('2026-12-07T10:00:00');
    const { followUpId, personId } = await plan(w.worker.email, due);

    // Planned with the follow-up: Thursday 10 December, and Monday 21 December (10 business days).
    expect((await ruleDeadline(followUpId, FOLLOW_UP_OVERDUE_REMINDER)).due_at).toEqual(
      paris('2026-12-10T10:00:00'),
    );
    expect((await ruleDeadline(followUpId, FOLLOW_UP_ESCALATE)).due_at).toEqual(
      paris('2026-12-21T10:00:00'),
    );

    await advanceTo(ctx, clock, paris('2026-12-10T09:59:00'));
    expect(await notes(w.worker.id, 'follow_up.due')).toHaveLength(1);
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-10T10:00:00'));
    const [reminder] = await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE);
    expect(reminder).toMatchObject({
      subject_id: followUpId,
      title: 'Suivi en retard de 3 jours ouvrés : Rappeler pour le dossier APL',
      body: 'Pour : Homme ~50 ans, parvis de la médiathèque',
      link: `/personnes/${personId}`,
    });
    expect((await ruleDeadline(followUpId, FOLLOW_UP_OVERDUE_REMINDER)).status).toBe('done');
    // Nobody escalated yet.
    expect(await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-21T09:59:00'));
    expect(await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-21T10:00:00'));
    const [escalation] = await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED);
    expect(escalation).toMatchObject({
      subject_id: followUpId,
      title: `Suivi en retard de 10 jours ouvrés (${w.worker.name}) : Rappeler pour le dossier APL`,
      link: `/personnes/${personId}`,
    });
    // The lead of another team, the assignee and the colleague hear nothing of it.
    expect(await notes(w.otherLead.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);
    expect(await notes(w.worker2.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);
    // One reminder only, whatever else ran meanwhile.
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(1);
  });

  it('when an escalation comes one business day after the due moment, then its title says it in the singular', async () => {
    const w = await world();
    const { followUpId } = await plan(w.worker.email, paris('2026-12-07T10:00:00'));
    // Planned by hand one business day after the due moment (the settings' shortest is two).
    const [early] = await testKnex()('deadlines')
      .insert({
        structure_id: w.structure.id,
        kind: FOLLOW_UP_ESCALATE,
        subject_type: 'follow_up',
        subject_id: followUpId,
        due_at: paris('2026-12-08T10:00:00'),
      })
      .returning('id');
    await ctx.deps.relay.enqueue([early.id]);
    await advanceTo(ctx, clock, paris('2026-12-08T10:00:00'));
    const [escalation] = await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED);
    expect(escalation.title).toBe(
      `Suivi en retard de 1 jour ouvré (${w.worker.name}) : Rappeler pour le dossier APL`,
    );
  });

  it('when public holidays and a weekend come in between, then the reminder waits for the third business day', async () => {
    const w = await world();
    // Wednesday 23 December: Christmas (Friday 25) and the weekend do not count.
    const { followUpId } = await plan(w.worker.email, paris('2026-12-23T15:00:00'));
    expect((await ruleDeadline(followUpId, FOLLOW_UP_OVERDUE_REMINDER)).due_at).toEqual(
      paris('2026-12-29T15:00:00'),
    );
    await advanceTo(ctx, clock, paris('2026-12-28T15:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(0);
    await advanceTo(ctx, clock, paris('2026-12-29T15:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(1);
  });

  it('when the follow-up is done before, then neither the reminder nor the escalation comes', async () => {
    const w = await world();
    const { agent, followUpId } = await plan(w.worker.email, paris('2026-12-07T10:00:00'));
    await advanceTo(ctx, clock, paris('2026-12-09T12:00:00'));
    expect(
      (await agent.patch(`/api/follow-ups/${followUpId}`).send({ status: 'done' })).status,
    ).toBe(200);
    expect((await ruleDeadline(followUpId, FOLLOW_UP_OVERDUE_REMINDER)).status).toBe('cancelled');
    expect((await ruleDeadline(followUpId, FOLLOW_UP_ESCALATE)).status).toBe('cancelled');
    await advanceTo(ctx, clock, paris('2026-12-22T12:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(0);
    expect(await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);
  });

  it('when the follow-up is rescheduled, then its reminder and escalation move with it', async () => {
    const w = await world();
    const { agent, followUpId } = await plan(w.worker.email, paris('2026-12-07T10:00:00'));
    await advanceTo(ctx, clock, paris('2026-12-08T12:00:00'));
    const later = paris('2026-12-14T10:00:00');
    expect(
      (await agent.patch(`/api/follow-ups/${followUpId}`).send({ dueAt: later.toISOString() }))
        .status,
    ).toBe(200);
    expect((await ruleDeadline(followUpId, FOLLOW_UP_OVERDUE_REMINDER)).due_at).toEqual(
      paris('2026-12-17T10:00:00'),
    );
    // The old moment passes: nothing.
    await advanceTo(ctx, clock, paris('2026-12-16T10:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(0);
    await advanceTo(ctx, clock, paris('2026-12-17T10:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(1);
  });

  it('when reminders are paused for the person, then neither the reminder nor the escalation is sent, and both say why', async () => {
    const w = await world();
    const { personId, followUpId } = await plan(w.worker.email, paris('2026-12-07T10:00:00'));
    await testKnex()('persons').where({ id: personId }).update({ pause_reminders: true });
    await advanceTo(ctx, clock, paris('2026-12-22T10:00:00'));
    expect(await notes(w.worker.id, NOTIFY_FOLLOW_UP_OVERDUE)).toHaveLength(0);
    expect(await notes(w.manager.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(0);
    for (const kind of [FOLLOW_UP_OVERDUE_REMINDER, FOLLOW_UP_ESCALATE])
      expect(await ruleDeadline(followUpId, kind)).toMatchObject({
        status: 'skipped',
        last_error: 'reminders paused for this person',
      });
  });

  it('when no manager leads the assignee’s teams, then the escalation goes to the structure’s active managers', async () => {
    const team = await createTeam();
    const { followUpId } = await plan(team.worker.email, paris('2026-12-07T10:00:00'));
    await advanceTo(ctx, clock, paris('2026-12-22T10:00:00'));
    expect(await ruleDeadline(followUpId, FOLLOW_UP_ESCALATE)).toMatchObject({ status: 'done' });
    expect(await notes(team.manager.id, NOTIFY_FOLLOW_UP_ESCALATED)).toHaveLength(1);
  });

  it('when the structure has no active manager, then the escalation is skipped and says so', async () => {
    const team = await createTeam();
    await testKnex()('users').where({ id: team.manager.id }).update({ disabled_at: new Date() });
    const { followUpId } = await plan(team.worker.email, paris('2026-12-07T10:00:00'));
    await advanceTo(ctx, clock, paris('2026-12-22T10:00:00'));
    expect(await ruleDeadline(followUpId, FOLLOW_UP_ESCALATE)).toMatchObject({
      status: 'skipped',
      last_error: 'the structure has no active manager',
    });
  });
});
