import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  NOTIFY_SUGGEST_CLOSE,
  PERSON_NO_CONTACT,
  PERSON_SUGGEST_CLOSE,
} from '../../../server/features/deadlines/rule-kinds';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import type { Agent } from '../referrals/helpers';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { advanceTo, paris } from './time-machine';
import { capture } from '../../setup/plans';

/** Tuesday 1 December 2026, 10:00 in Paris. */
const START = paris('2026-12-01T10:00:00');

const ruleDeadlines = (personId: string, kind: string) =>
  testKnex()('deadlines').where({ subject_id: personId, kind }).orderBy('created_at');

const openFollowUps = (personId: string) =>
  testKnex()('follow_ups').where({ person_id: personId, status: 'open' });

const notes = (recipientId: string, kind: string) =>
  testKnex()('notifications').where({ recipient_id: recipientId, kind });

describe('no contact for 30 days: a "relancer" follow-up for the référent; for 90: a suggestion to close; through the real worker', () => {
  const clock = fixedClock(START);
  let ctx: TestContext;
  let worker: DeadlineWorker;
  beforeAll(async () => {
    ctx = await createTestContext({ clock, env: { RELAY_INTERVAL_MS: '100' } });
    worker = await startDeadlineWorker(ctx.deps);
  });
  afterAll(async () => {
    await worker.close();
    await ctx.close();
  });
  beforeEach(() => clock.set(START));

  async function newPerson(email: string) {
    const agent = await loginAs(ctx.app, email);
    const res = await agent
      .post('/api/persons')
      .send({ alias: 'Femme ~30 ans, quai Ligny', source: 'outreach' });
    expect(res.status).toBe(201);
    return { agent, personId: res.body.id as string };
  }

  it('when nobody reaches the person for 30 days, then the référent gets a "relancer" follow-up on day 30 and not before, and its due notification', async () => {
    const team = await createTeam();
    const { personId } = await newPerson(team.worker.email);
    const [planned] = await ruleDeadlines(personId, PERSON_NO_CONTACT);
    // Thursday 31 December 2026, 10:00: 30 days after the file was created (no contact yet).
    expect(planned.due_at).toEqual(paris('2026-12-31T10:00:00'));

    await advanceTo(ctx, clock, paris('2026-12-31T09:59:00'));
    expect(await openFollowUps(personId)).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    const [f] = await openFollowUps(personId);
    expect(f).toMatchObject({
      assignee_id: team.worker.id,
      title: 'Relancer : aucun contact depuis 30 jours',
      origin_deadline_id: planned.id,
    });
    const due = await notes(team.worker.id, 'follow_up.due');
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ subject_id: f.id, link: `/personnes/${personId}` });
    // Nobody else is asked; no suggestion to close yet.
    expect(await notes(team.worker.id, NOTIFY_SUGGEST_CLOSE)).toHaveLength(0);
    expect(await notes(team.worker2.id, 'follow_up.due')).toHaveLength(0);
  });

  it('when a contact is logged on day 20, then the rules start again from it: nothing on day 30, the follow-up on day 50', async () => {
    const team = await createTeam();
    const { agent, personId } = await newPerson(team.worker.email);
    clock.set(paris('2026-12-21T11:00:00'));
    const contact = await agent.post(`/api/persons/${personId}/contacts`).send({
      occurredAt: paris('2026-12-21T10:30:00').toISOString(),
      channel: 'street',
      outcome: 'reached',
    });
    expect(contact.status).toBe(201);
    const [first, second] = await ruleDeadlines(personId, PERSON_NO_CONTACT);
    expect(first.status).toBe('cancelled');
    // 30 days after the contact: Wednesday 20 January 2027, 10:30.
    expect(second).toMatchObject({ status: 'pending', due_at: paris('2027-01-20T10:30:00') });

    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    expect(await openFollowUps(personId)).toHaveLength(0);
    await advanceTo(ctx, clock, paris('2027-01-20T10:30:00'));
    expect(await openFollowUps(personId)).toHaveLength(1);
  });

  it('when a contact logged does not move the last contact (an older one), then the pending rules stay the same rows; a newer one replaces them', async () => {
    const team = await createTeam();
    const { agent, personId } = await newPerson(team.worker.email);
    clock.set(paris('2026-12-21T11:00:00'));
    const log = (at: string) =>
      agent.post(`/api/persons/${personId}/contacts`).send({
        occurredAt: paris(at).toISOString(),
        channel: 'street',
        outcome: 'reached',
      });
    expect((await log('2026-12-21T10:30:00')).status).toBe(201);
    const pendingIds = async () =>
      (await testKnex()('deadlines')
        .where({ subject_id: personId, status: 'pending' })
        .whereIn('kind', [PERSON_NO_CONTACT, PERSON_SUGGEST_CLOSE])
        .orderBy('kind')
        .pluck('id')) as string[];
    const before = await pendingIds();
    expect(before).toHaveLength(2);
    const rows = await testKnex()('deadlines').where({ subject_id: personId }).count();

    // Older than the last contact, then the same moment again: nothing moves.
    expect((await log('2026-12-15T09:00:00')).status).toBe(201);
    expect((await log('2026-12-21T10:30:00')).status).toBe(201);
    expect(await pendingIds()).toEqual(before);
    expect(await testKnex()('deadlines').where({ subject_id: personId }).count()).toEqual(rows);

    // A newer contact moves both rules: new rows, the old ones cancelled.
    expect((await log('2026-12-21T10:45:00')).status).toBe(201);
    const after = await pendingIds();
    expect(after).toHaveLength(2);
    expect(after.some((id) => before.includes(id))).toBe(false);
    const [moved] = await ruleDeadlines(personId, PERSON_NO_CONTACT).where({ status: 'pending' });
    expect(moved.due_at).toEqual(paris('2027-01-20T10:45:00'));
  });

  it('when 90 days pass without contact, then the référent is asked whether to close the file, once', async () => {
    const team = await createTeam();
    const { personId } = await newPerson(team.worker.email);
    const [planned] = await ruleDeadlines(personId, PERSON_SUGGEST_CLOSE);
    // 90 days after 1 December: Monday 1 March 2027, 10:00.
    expect(planned.due_at).toEqual(paris('2027-03-01T10:00:00'));

    await advanceTo(ctx, clock, paris('2027-02-28T10:00:00'));
    expect(await notes(team.worker.id, NOTIFY_SUGGEST_CLOSE)).toHaveLength(0);
    await advanceTo(ctx, clock, paris('2027-03-01T10:00:00'));
    const suggestions = await notes(team.worker.id, NOTIFY_SUGGEST_CLOSE);
    expect(suggestions).toHaveLength(1);
    expect(suggestions[0]).toMatchObject({
      subject_id: personId,
      title: 'Aucun contact depuis 90 jours : clore le dossier ?',
      body: 'Pour : Femme ~30 ans, quai Ligny',
      link: `/personnes/${personId}`,
    });
  });

  it('when reminders are paused for the person or the file is closed, then neither rule acts, and each says why', async () => {
    const team = await createTeam();
    const paused = await newPerson(team.worker.email);
    const closed = await newPerson(team.worker.email);
    await testKnex()('persons').where({ id: paused.personId }).update({ pause_reminders: true });
    await testKnex()('persons')
      .where({ id: closed.personId })
      .update({ closed_at: START, closed_reason: 'moved' });
    await advanceTo(ctx, clock, paris('2027-03-02T10:00:00'));
    for (const { personId } of [paused, closed])
      expect(await openFollowUps(personId)).toHaveLength(0);
    expect(await notes(team.worker.id, NOTIFY_SUGGEST_CLOSE)).toHaveLength(0);
    const reasons = async (personId: string) =>
      (
        await testKnex()('deadlines')
          .where({ subject_id: personId })
          .whereIn('kind', [PERSON_NO_CONTACT, PERSON_SUGGEST_CLOSE])
      ).map((d) => [d.status, d.last_error]);
    expect(await reasons(paused.personId)).toEqual([
      ['skipped', 'reminders paused for this person'],
      ['skipped', 'reminders paused for this person'],
    ]);
    expect(await reasons(closed.personId)).toEqual([
      ['skipped', 'file closed'],
      ['skipped', 'file closed'],
    ]);
  });

  // The merged file's contact entered before the kept file's, or after it (a late entry): the
  // merged file's rows, which then name the kept file, are older or newer than its own.
  it.each([
    ['entered first', true],
    ['entered late', false],
  ])(
    'when a file contacted earlier (%s) is merged into one contacted later, then the kept file keeps one pair of rules, counted from its last contact: nothing on the merged file’s day 30, one "relancer" on the kept file’s',
    async (_, mergedFirst) => {
      clock.set(paris('2026-01-02T09:00:00'));
      const team = await createTeam();
      const kept = await newPerson(team.worker.email);
      const merged = await newPerson(team.worker.email);
      const contact = (personId: string, at: string) =>
        kept.agent.post(`/api/persons/${personId}/contacts`).send({
          occurredAt: paris(at).toISOString(),
          channel: 'street',
          outcome: 'reached',
        });
      const mergedContact = () => contact(merged.personId, '2026-01-02T10:00:00');
      clock.set(paris('2026-01-02T11:00:00'));
      if (mergedFirst) expect((await mergedContact()).status).toBe(201);
      clock.set(paris('2026-01-20T11:00:00'));
      expect((await contact(kept.personId, '2026-01-20T10:00:00')).status).toBe(201);
      if (!mergedFirst) expect((await mergedContact()).status).toBe(201);

      clock.set(paris('2026-01-26T10:00:00'));
      const manager = await loginAs(ctx.app, team.manager.email);
      const version = async (id: string) => (await manager.get(`/api/persons/${id}`)).body.version;
      const merge = await manager.post(`/api/persons/${merged.personId}/merge`).send({
        intoId: kept.personId,
        version: await version(merged.personId),
        intoVersion: await version(kept.personId),
      });
      expect(merge.status).toBe(200);
      // One row per rule, so that no later re-plan (a settings change) moves two of them.
      const pending = await testKnex()('deadlines')
        .where({ subject_id: kept.personId, status: 'pending' })
        .whereIn('kind', [PERSON_NO_CONTACT, PERSON_SUGGEST_CLOSE])
        .orderBy('kind')
        .select('kind', 'due_at');
      expect(pending).toEqual([
        // 30 days after the kept file's contact: Thursday 19 February 2026, 10:00.
        { kind: PERSON_NO_CONTACT, due_at: paris('2026-02-19T10:00:00') },
        // 90 days of 24 hours after it: Monday 20 April 2026, 11:00 in summer time.
        { kind: PERSON_SUGGEST_CLOSE, due_at: new Date('2026-04-20T11:00:00+02:00') },
      ]);

      // Monday 2 February, the merged file's day 30 (Sunday 1 February, then the working morning).
      await advanceTo(ctx, clock, paris('2026-02-02T10:00:00'));
      expect(await openFollowUps(kept.personId)).toHaveLength(0);
      await advanceTo(ctx, clock, paris('2026-02-19T09:59:00'));
      expect(await openFollowUps(kept.personId)).toHaveLength(0);

      await advanceTo(ctx, clock, paris('2026-02-19T10:00:00'));
      const followUps = await openFollowUps(kept.personId);
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        assignee_id: team.worker.id,
        title: 'Relancer : aucun contact depuis 30 jours',
      });
      expect(await notes(team.worker.id, 'follow_up.due')).toHaveLength(1);
    },
  );

  const relancer = (personId: string) =>
    testKnex()('follow_ups')
      .where({ person_id: personId })
      .andWhere('title', 'like', 'Relancer%')
      .orderBy('created_at');

  const pendingRules = (personId: string) =>
    testKnex()('deadlines')
      .where({ subject_id: personId, status: 'pending' })
      .whereIn('kind', [PERSON_NO_CONTACT, PERSON_SUGGEST_CLOSE])
      .orderBy('kind')
      .select('kind', 'due_at');

  async function patchPerson(agent: Agent, personId: string, body: Record<string, unknown>) {
    const { version } = (await agent.get(`/api/persons/${personId}`)).body;
    const res = await agent.patch(`/api/persons/${personId}`).send({ ...body, version });
    expect(res.status).toBe(200);
  }

  it('when reminders are paused and resumed after the rule ran, then it is not replayed: one "relancer" until 30 days after the resume', async () => {
    const team = await createTeam();
    const { agent, personId } = await newPerson(team.worker.email);
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    expect(await relancer(personId)).toHaveLength(1);

    clock.set(paris('2027-01-05T10:00:00'));
    await patchPerson(agent, personId, { pauseReminders: true });
    clock.set(paris('2027-01-11T10:00:00'));
    await patchPerson(agent, personId, { pauseReminders: false });
    // The moment that passed (31 December) is counted from the resume instead: Wednesday
    // 10 February 2027; the suggestion to close, still ahead, stays where it was.
    expect(await pendingRules(personId)).toEqual([
      { kind: PERSON_NO_CONTACT, due_at: paris('2027-02-10T10:00:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-02-10T09:59:00'));
    expect(await relancer(personId)).toHaveLength(1);
  });

  it('when a no-contact rule is played again at a moment it already acted on, then it plans no second "relancer"', async () => {
    const team = await createTeam();
    const { personId } = await newPerson(team.worker.email);
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    const [first] = await relancer(personId);
    expect(first).toBeDefined();

    // A copy of the rule at the same moment (as a replay would write it), newer than the first.
    const [replay] = await testKnex()('deadlines')
      .insert({
        structure_id: team.structure.id,
        kind: PERSON_NO_CONTACT,
        subject_type: 'person',
        subject_id: personId,
        due_at: paris('2026-12-31T10:00:00'),
      })
      .returning('id');
    await advanceTo(ctx, clock, paris('2026-12-31T10:05:00'));
    expect(await testKnex()('deadlines').where({ id: replay.id }).first()).toMatchObject({
      status: 'skipped',
      last_error: 'follow-up already planned',
    });
    expect((await relancer(personId)).map((f) => f.id)).toEqual([first.id]);
  });

  it('when a file closed before its rules fell due is reopened 100 days later, then nothing is played at once: the rules count from the reopening', async () => {
    const team = await createTeam();
    const { agent, personId } = await newPerson(team.worker.email);
    clock.set(paris('2026-12-14T10:00:00'));
    await patchPerson(agent, personId, { closedReason: 'moved' });
    await advanceTo(ctx, clock, paris('2027-03-24T10:00:00'));

    await patchPerson(agent, personId, { closedReason: null });
    expect(await pendingRules(personId)).toEqual([
      // 30 and 90 days of 24 hours after the reopening, in summer time.
      { kind: PERSON_NO_CONTACT, due_at: new Date('2027-04-23T11:00:00+02:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: new Date('2027-06-22T11:00:00+02:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-03-24T10:05:00'));
    expect(await relancer(personId)).toHaveLength(0);
    expect(await notes(team.worker.id, NOTIFY_SUGGEST_CLOSE)).toHaveLength(0);

    await advanceTo(ctx, clock, new Date('2027-04-23T11:00:00+02:00'));
    expect(await relancer(personId)).toHaveLength(1);
  });

  it('when the number of days changes after a file was reopened, then its rules stay counted from the reopening: nothing is played at once', async () => {
    const team = await createTeam();
    const { agent, personId } = await newPerson(team.worker.email);
    clock.set(paris('2026-12-14T10:00:00'));
    await patchPerson(agent, personId, { closedReason: 'moved' });
    await advanceTo(ctx, clock, paris('2027-03-24T10:00:00'));
    await patchPerson(agent, personId, { closedReason: null });
    // Planned now, as the database's clock says in production (the test's clock is fixed).
    await testKnex()('deadlines')
      .where({ subject_id: personId, status: 'pending' })
      .update({ created_at: clock.now() });

    const admin = await loginAs(ctx.app, team.admin.email);
    const changed = await admin.patch('/api/settings').send({ noContactDays: 31 });
    expect(changed.status).toBe(200);
    expect(await pendingRules(personId)).toEqual([
      // 31 days after the reopening fall on Saturday 24 April: Monday's first working moment.
      // Not 31 days after the file's creation, long past.
      { kind: PERSON_NO_CONTACT, due_at: new Date('2027-04-26T08:30:00+02:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: new Date('2027-06-22T11:00:00+02:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-03-24T10:05:00'));
    expect(await relancer(personId)).toHaveLength(0);
  });

  it('when two quiet files, each given its "relancer", are merged, then the kept file gets no third one', async () => {
    const team = await createTeam();
    const kept = await newPerson(team.worker.email);
    const merged = await newPerson(team.worker.email);
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    const before = [...(await relancer(kept.personId)), ...(await relancer(merged.personId))];
    expect(before).toHaveLength(2);

    clock.set(paris('2027-01-04T10:00:00'));
    const manager = await loginAs(ctx.app, team.manager.email);
    const version = async (id: string) => (await manager.get(`/api/persons/${id}`)).body.version;
    const merge = await manager.post(`/api/persons/${merged.personId}/merge`).send({
      intoId: kept.personId,
      version: await version(merged.personId),
      intoVersion: await version(kept.personId),
    });
    expect(merge.status).toBe(200);
    expect(await pendingRules(kept.personId)).toEqual([
      // The moment passed is counted from the merge: Wednesday 3 February 2027; the suggestion
      // to close, still ahead, stays 90 days after the kept file's creation.
      { kind: PERSON_NO_CONTACT, due_at: paris('2027-02-03T10:00:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-01-04T10:05:00'));
    expect((await relancer(kept.personId)).map((f) => f.id).sort()).toEqual(
      before.map((f) => f.id).sort(),
    );
  });

  /** A file whose référent left before its 30-day rule fell due, which then skipped. */
  async function skippedForNoReferent() {
    const team = await createTeam();
    const { personId } = await newPerson(team.worker.email);
    await testKnex()('users').where({ id: team.worker.id }).update({ disabled_at: START });
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    expect(await ruleDeadlines(personId, PERSON_NO_CONTACT)).toMatchObject([
      { status: 'skipped', last_error: 'no active référent' },
    ]);
    expect(await relancer(personId)).toHaveLength(0);
    return { team, personId };
  }

  it('when a leaver’s files are moved in bulk after their 30-day rule skipped for want of an active référent, then the new référent gets the "relancer" 30 days after the move', async () => {
    const { team, personId } = await skippedForNoReferent();
    clock.set(paris('2027-01-04T10:00:00'));
    const manager = await loginAs(ctx.app, team.manager.email);
    const moved = await manager.post('/api/follow-ups/reassign').send({
      fromAssigneeId: team.worker.id,
      toAssigneeId: team.worker2.id,
      referents: true,
    });
    expect(moved.status).toBe(200);
    expect(moved.body.personIds).toEqual([personId]);
    // Counted from the move, as a reopening counts it: Wednesday 3 February 2027; the
    // suggestion to close, still ahead, stays where it was.
    expect(await pendingRules(personId)).toEqual([
      { kind: PERSON_NO_CONTACT, due_at: paris('2027-02-03T10:00:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-02-03T10:00:00'));
    const [f] = await relancer(personId);
    expect(f).toMatchObject({ assignee_id: team.worker2.id, status: 'open' });
  });

  it('when several of a leaver’s files are moved in bulk, then each is re-planned as one is, in the same few statements whatever their number', async () => {
    const team = await createTeam();
    const files = [];
    for (let i = 0; i < 3; i++) files.push((await newPerson(team.worker.email)).personId);
    await testKnex()('users').where({ id: team.worker.id }).update({ disabled_at: START });
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    clock.set(paris('2027-01-04T10:00:00'));
    const manager = await loginAs(ctx.app, team.manager.email);
    const sent = await capture(ctx.deps.knex, /"deadlines"|max\(c\.occurred_at\)/, () =>
      manager.post('/api/follow-ups/reassign').send({
        fromAssigneeId: team.worker.id,
        toAssigneeId: team.worker2.id,
        referents: true,
      }),
    );
    for (const personId of files)
      expect(await pendingRules(personId)).toEqual([
        { kind: PERSON_NO_CONTACT, due_at: paris('2027-02-03T10:00:00') },
        { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
      ]);
    // The last contacts read once, the pending rules once, one cancel, one insert.
    expect(sent.filter((q) => /max\(c\.occurred_at\)/.test(q.sql))).toHaveLength(1);
    // (The relay reads and marks rows too, after commit: only the re-plan's statements count.)
    expect(sent.filter((q) => /from "deadlines" where "subject_type"/.test(q.sql))).toHaveLength(1);
    expect(sent.filter((q) => /^update "deadlines" set "status"/.test(q.sql))).toHaveLength(1);
    expect(sent.filter((q) => /^insert into "deadlines"/i.test(q.sql))).toHaveLength(1);
  });

  it('when a file’s référent is changed by its edit after its 30-day rule skipped for want of an active référent, then the new référent gets the "relancer" 30 days after; an edit keeping the référent re-plans nothing', async () => {
    const { team, personId } = await skippedForNoReferent();
    clock.set(paris('2027-01-04T10:00:00'));
    const manager = await loginAs(ctx.app, team.manager.email);
    // As the edit page sends it: every field, the leaver still référent.
    await patchPerson(manager, personId, { place: 'Quai Ligny', referentId: team.worker.id });
    expect(await pendingRules(personId)).toEqual([
      { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
    ]);
    await patchPerson(manager, personId, { referentId: team.worker2.id });
    expect(await pendingRules(personId)).toEqual([
      { kind: PERSON_NO_CONTACT, due_at: paris('2027-02-03T10:00:00') },
      { kind: PERSON_SUGGEST_CLOSE, due_at: paris('2027-03-01T10:00:00') },
    ]);
    await advanceTo(ctx, clock, paris('2027-02-03T10:00:00'));
    const [f] = await relancer(personId);
    expect(f).toMatchObject({ assignee_id: team.worker2.id, status: 'open' });
  });

  it('when the référent changed, then the follow-up goes to the current one', async () => {
    const team = await createTeam();
    const { personId } = await newPerson(team.worker.email);
    await testKnex()('persons').where({ id: personId }).update({ referent_id: team.worker2.id });
    await advanceTo(ctx, clock, paris('2026-12-31T10:00:00'));
    const [f] = await openFollowUps(personId);
    expect(f.assignee_id).toBe(team.worker2.id);
  });
});
