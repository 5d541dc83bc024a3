import { followUpDue } from '../../../jobs/follow-ups/follow-up-due';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import {
  deadlinesOf,
  notificationsFor,
  planFollowUp,
  settledOrWaiting,
  waitFor,
  waitForStatus,
} from './helpers';

const deadlineRepository = createDeadlineRepository();

const NOW = new Date('2026-12-01T09:00:00.000Z');
const LATER = new Date('2026-12-08T09:00:00.000Z');

describe('follow-up due deadlines', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
  });
  afterAll(async () => ctx.close());

  const run = (deadlineId: string) =>
    processDeadline(ctx.deps, processors, FOLLOW_UP_DUE, deadlineId);

  describe('with the real worker running', () => {
    let worker: DeadlineWorker;
    beforeAll(async () => {
      worker = await startDeadlineWorker(ctx.deps);
    });
    afterAll(async () => worker.close());

    it('when a follow-up falls due, then its assignee gets one notification they can read, and nobody else can mark it', async () => {
      const team = await createTeam();
      const { agent, personId, res } = await planFollowUp(
        ctx.app,
        team.worker.email,
        NOW,
        'Rappeler pour le dossier APL',
      );
      expect(res.status).toBe(201);
      const [deadline] = await deadlinesOf(res.body.id);
      await waitForStatus(deadline.id, 'done');

      const list = await agent.get('/api/notifications');
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ total: 1, unread: 1 });
      const [n] = list.body.items;
      expect(n).toMatchObject({
        kind: FOLLOW_UP_DUE,
        subjectType: 'follow_up',
        subjectId: res.body.id,
        title: 'Suivi à faire : Rappeler pour le dossier APL',
        link: `/personnes/${personId}`,
        // In the app, the assignee (staff of the file's structure) reads whom it is about.
        body: 'Pour : Femme ~40 ans, gare routière',
        readAt: null,
      });
      expect(new Date(n.dueMoment).getTime()).toBe(NOW.getTime());

      const colleague = await loginAs(ctx.app, team.worker2.email);
      expect((await colleague.get('/api/notifications')).body.total).toBe(0);
      expect((await colleague.post(`/api/notifications/${n.id}/read`)).status).toBe(404);

      const read = await agent.post(`/api/notifications/${n.id}/read`);
      expect(read.status).toBe(200);
      expect(read.body.readAt).not.toBeNull();
      expect((await agent.get('/api/notifications?unread=true')).body.total).toBe(0);
    });

    it('when the same deadline is queued again under another job id, then it still notifies once', async () => {
      const team = await createTeam();
      const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
      const [deadline] = await deadlinesOf(res.body.id);
      await waitForStatus(deadline.id, 'done');

      const again = await ctx.deps.queue.add(
        FOLLOW_UP_DUE,
        { deadlineId: deadline.id },
        { jobId: `again-${deadline.id}` },
      );
      const outcome = await waitFor(async () => {
        const job = await ctx.deps.queue.getJob(again.id!);
        return (await job?.isCompleted()) ? job!.returnvalue : undefined;
      }, 'the second job to complete');
      expect(outcome).toBe('not_pending');
      expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    });
  });

  describe('processing the same deadline more than once', () => {
    it('when the processor runs twice, or twice at the same time, then one notification', async () => {
      const team = await createTeam();
      const a = await planFollowUp(ctx.app, team.worker.email, LATER, 'Premier');
      const b = await planFollowUp(ctx.app, team.worker.email, LATER, 'Second');
      const [da] = await deadlinesOf(a.res.body.id);
      const [db] = await deadlinesOf(b.res.body.id);

      expect(await run(da.id)).toBe('done');
      expect(await run(da.id)).toBe('not_pending');
      // Concurrent deliveries: the row lock makes the second wait, then see it is done.
      expect((await Promise.all([run(db.id), run(db.id)])).sort()).toEqual(['done', 'not_pending']);
      expect(await notificationsFor(team.worker.id)).toHaveLength(2);
    });

    it('when the deadline status is lost and it runs again, then the unique key still keeps one notification', async () => {
      const team = await createTeam();
      const { res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const [d] = await deadlinesOf(res.body.id);
      expect(await run(d.id)).toBe('done');
      await testKnex()('deadlines').where({ id: d.id }).update({ status: 'pending' });
      expect(await run(d.id)).toBe('done');
      expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    });
  });

  describe('changes to the follow-up', () => {
    it('when the follow-up is rescheduled, then the old deadline and its job go and a new one is queued', async () => {
      const team = await createTeam();
      const { agent, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const [old] = await deadlinesOf(res.body.id);
      expect(await ctx.deps.queue.getJob(deadlineJobId(old.id))).toBeDefined();

      const newDue = new Date(LATER.getTime() + 86400_000);
      const patched = await agent
        .patch(`/api/follow-ups/${res.body.id}`)
        .send({ dueAt: newDue.toISOString() });
      expect(patched.status).toBe(200);

      const [before, after] = await deadlinesOf(res.body.id);
      expect(before).toMatchObject({ id: old.id, status: 'cancelled' });
      expect(after).toMatchObject({ status: 'pending', dueAt: newDue });
      expect(await ctx.deps.queue.getJob(deadlineJobId(old.id))).toBeUndefined();
      const job = await ctx.deps.queue.getJob(deadlineJobId(after.id));
      expect(job?.opts.delay).toBe(newDue.getTime() - NOW.getTime());

      // A stale delivery of the old job changes nothing.
      expect(await run(old.id)).toBe('not_pending');
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
    });

    it('when the follow-up is reassigned, then the old deadline and its job go, a new one is pending, and only the new assignee is notified', async () => {
      const team = await createTeam();
      const { agent, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const [old] = await deadlinesOf(res.body.id);
      expect(await ctx.deps.queue.getJob(deadlineJobId(old.id))).toBeDefined();

      const patched = await agent
        .patch(`/api/follow-ups/${res.body.id}`)
        .send({ assigneeId: team.worker2.id });
      expect(patched.status).toBe(200);

      const [before, after] = await deadlinesOf(res.body.id);
      expect(before).toMatchObject({ id: old.id, status: 'cancelled' });
      expect(after).toMatchObject({ status: 'pending', dueAt: LATER });
      expect(await ctx.deps.queue.getJob(deadlineJobId(old.id))).toBeUndefined();
      expect(await ctx.deps.queue.getJob(deadlineJobId(after.id))).toBeDefined();

      expect(await run(old.id)).toBe('not_pending');
      expect(await run(after.id)).toBe('done');
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
      // Told of the move when it was made ("Suivi confié"), then of the follow-up once, when due.
      const [n] = await notificationsFor(team.worker2.id, FOLLOW_UP_DUE);
      expect(n).toMatchObject({ subject_id: res.body.id, kind: FOLLOW_UP_DUE });
      expect(await notificationsFor(team.worker2.id, FOLLOW_UP_DUE)).toHaveLength(1);
    });

    it('when the follow-up is reassigned while a job holds its deadline, then that deadline stays pending, skips when it runs, and only the new assignee is notified', async () => {
      const team = await createTeam();
      const { agent, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const [old] = await deadlinesOf(res.body.id);
      // A job holds the row (it then crashed, or failed): the reassignment cannot cancel it.
      const job = await ctx.deps.knex.transaction();
      try {
        expect(await deadlineRepository.lockForProcessing(job, old.id)).not.toBeNull();
        const patched = await agent
          .patch(`/api/follow-ups/${res.body.id}`)
          .send({ assigneeId: team.worker2.id });
        expect(patched.status).toBe(200);
      } finally {
        await job.rollback();
      }
      const [before, after] = await deadlinesOf(res.body.id);
      expect(before).toMatchObject({ id: old.id, status: 'pending' });
      expect(after).toMatchObject({ status: 'pending', dueAt: LATER });

      expect(await run(old.id)).toBe('skipped');
      expect(await deadlineRepository.findById(testKnex(), old.id)).toMatchObject({
        status: 'skipped',
        lastError: 'follow-up was reassigned: a newer deadline notifies its assignee',
      });
      expect(await run(after.id)).toBe('done');
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
      expect(await notificationsFor(team.worker2.id, FOLLOW_UP_DUE)).toHaveLength(1);
    });

    it('when the job reaches the follow-up while its reassignment is being written, then it waits for it and never notifies the old assignee', async () => {
      const team = await createTeam();
      const { agent, personId, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const [old] = await deadlinesOf(res.body.id);
      const job = await ctx.deps.knex.transaction();
      const holder = await testKnex().transaction();
      try {
        // The job's first step, as processDeadline takes it: lock the outbox row.
        const deadline = (await deadlineRepository.lockForProcessing(job, old.id))!;
        // The reassignment locks the follow-up, moves it to the colleague and leaves the held
        // row pending; it is kept from committing by a lock on the person (its last write).
        await holder('persons').where({ id: personId }).forUpdate().first('id');
        let patched: { status: number } | undefined;
        const patching = agent
          .patch(`/api/follow-ups/${res.body.id}`)
          .send({ assigneeId: team.worker2.id })
          .then((r) => (patched = r));
        expect(await settledOrWaiting(() => patched !== undefined)).toBe('waiting');

        // The real processor, in the job's transaction, while the reassignment is uncommitted.
        let result: Awaited<ReturnType<typeof followUpDue>> | undefined;
        const processing = followUpDue({ deadline, trx: job, deps: ctx.deps, now: LATER }).then(
          (r) => (result = r),
        );

        await holder.rollback();
        expect((await patching).status).toBe(200);
        await processing;
        await job.commit();
        expect(result).toEqual({
          status: 'skipped',
          note: 'follow-up was reassigned: a newer deadline notifies its assignee',
        });
      } finally {
        if (!holder.isCompleted()) await holder.rollback();
        if (!job.isCompleted()) await job.rollback();
      }
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
      const [, current] = await deadlinesOf(res.body.id);
      expect(await run(current.id)).toBe('done');
      expect(await notificationsFor(team.worker2.id, FOLLOW_UP_DUE)).toHaveLength(1);
    });

    it('when the follow-up is completed, then its pending deadline is cancelled and never notifies', async () => {
      const team = await createTeam();
      const { agent, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      const patched = await agent.patch(`/api/follow-ups/${res.body.id}`).send({ status: 'done' });
      expect(patched.status).toBe(200);
      const deadlines = await deadlinesOf(res.body.id);
      expect(deadlines.map((d) => d.status)).toEqual(['cancelled']);
      expect(await run(deadlines[0].id)).toBe('not_pending');
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
    });

    it('when the follow-up changed behind the deadline, then the processor skips it and says why', async () => {
      const team = await createTeam();
      const moved = await planFollowUp(ctx.app, team.worker.email, LATER);
      const closed = await planFollowUp(ctx.app, team.worker.email, LATER);
      // Written around the service, as a race between an edit and the delivery would leave it.
      await testKnex()('follow_ups')
        .where({ id: moved.res.body.id })
        .update({ due_at: new Date(LATER.getTime() + 60_000) });
      await testKnex()('follow_ups').where({ id: closed.res.body.id }).update({ status: 'done' });
      const [dm] = await deadlinesOf(moved.res.body.id);
      const [dc] = await deadlinesOf(closed.res.body.id);

      expect(await run(dm.id)).toBe('skipped');
      expect(await run(dc.id)).toBe('skipped');
      expect(await deadlineRepository.findById(testKnex(), dm.id)).toMatchObject({
        status: 'skipped',
        lastError: 'follow-up was rescheduled',
      });
      expect(await deadlineRepository.findById(testKnex(), dc.id)).toMatchObject({
        status: 'skipped',
        lastError: 'follow-up is done',
      });
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
    });

    it('when reminders are paused for the person, then the deadline is skipped', async () => {
      const team = await createTeam();
      const { personId, res } = await planFollowUp(ctx.app, team.worker.email, LATER);
      await testKnex()('persons').where({ id: personId }).update({ pause_reminders: true });
      const [d] = await deadlinesOf(res.body.id);
      expect(await run(d.id)).toBe('skipped');
      expect(await notificationsFor(team.worker.id)).toHaveLength(0);
    });
  });
});
