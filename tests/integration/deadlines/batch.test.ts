import { UnrecoverableError } from 'bullmq';
import {
  BATCH_SIZE,
  processDeadline,
  type BatchProcessor,
  type Processor,
} from '../../../jobs/processor';
import { batchProcessors, processors } from '../../../jobs/registry';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import {
  FOLLOW_UP_OVERDUE_REMINDER,
  NOTIFY_FOLLOW_UP_OVERDUE,
} from '../../../server/features/deadlines/rule-kinds';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { waitFor } from './helpers';

/**
 * Batched delivery (jobs/README.md): the job of one due `follow_up.due` deadline claims other due
 * ones of its kind and structure and delivers them in the same transaction, set-based.
 */

const NOW = new Date('2026-12-01T09:00:00.000Z');
const LATER = new Date('2026-12-01T10:00:00.000Z');

/** `n` open follow-ups of a team's worker, each with its pending `follow_up.due` deadline. */
async function dueFollowUps(
  team: Awaited<ReturnType<typeof createTeam>>,
  n: number,
  dueAt: Date = NOW,
): Promise<{ followUpIds: string[]; deadlineIds: string[] }> {
  const [person] = await testKnex()('persons')
    .insert({
      structure_id: team.structure.id,
      alias: 'Homme ~50 ans, parc',
      source: 'outreach',
      referent_id: team.worker.id,
    })
    .returning('id');
  const followUps = await testKnex()('follow_ups')
    .insert(
      Array.from({ length: n }, (_, i) => ({
        structure_id: team.structure.id,
        person_id: person.id,
        assignee_id: team.worker.id,
        created_by: team.worker.id,
        title: `Rappeler ${i}`,
        due_at: dueAt,
        status: 'open',
      })),
    )
    .returning('id');
  const followUpIds = followUps.map((f: { id: string }) => f.id);
  const deadlines = await testKnex()('deadlines')
    .insert(
      followUpIds.map((id) => ({
        structure_id: team.structure.id,
        kind: FOLLOW_UP_DUE,
        subject_type: 'follow_up',
        subject_id: id,
        due_at: dueAt,
      })),
    )
    .returning('id');
  return { followUpIds, deadlineIds: deadlines.map((d: { id: string }) => d.id) };
}

const statusesOf = async (ids: string[]) => {
  const { rows } = await testKnex().raw<{ rows: { status: string; n: number }[] }>(
    'SELECT status, count(*)::int AS n FROM deadlines WHERE id = ANY(?) GROUP BY status',
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};

const dueNotifications = (followUpIds: string[]) =>
  testKnex()('notifications').where({ kind: FOLLOW_UP_DUE }).whereIn('subject_id', followUpIds);

describe('deadlines delivered in batches', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => ctx.close());

  const run = (
    deadlineId: string,
    registry = processors,
    batches: typeof batchProcessors = batchProcessors,
  ) => processDeadline(ctx.deps, registry, FOLLOW_UP_DUE, deadlineId, batches);

  it(`when ${BATCH_SIZE + 50} follow-ups fall due at once, then one job delivers ${BATCH_SIZE} of them in one transaction, each notified once, and the jobs of those find nothing left to do`, async () => {
    const team = await createTeam();
    const { followUpIds, deadlineIds } = await dueFollowUps(team, BATCH_SIZE + 50);

    expect(await run(deadlineIds[0])).toBe('done');
    const done = await testKnex()('deadlines')
      .whereIn('id', deadlineIds)
      .where({ status: 'done' })
      .select('id', 'processed_at');
    expect(done).toHaveLength(BATCH_SIZE);
    expect(done.map((d) => d.id)).toContain(deadlineIds[0]);
    // One transaction: PostgreSQL's now() is the moment it began.
    expect(new Set(done.map((d) => new Date(d.processed_at).getTime())).size).toBe(1);
    const notes = await dueNotifications(followUpIds);
    expect(notes).toHaveLength(BATCH_SIZE);
    expect(new Set(notes.map((n) => n.subject_id)).size).toBe(BATCH_SIZE);
    expect(notes.every((n) => n.recipient_id === team.worker.id)).toBe(true);
    expect(notes[0]).toMatchObject({ body: 'Pour : Homme ~50 ans, parc' });

    // The other jobs of the batch: nothing to do. A job whose row is still pending takes the rest.
    const doneIds = new Set(done.map((d) => d.id));
    const claimedId = deadlineIds.find((id) => id !== deadlineIds[0] && doneIds.has(id))!;
    expect(await run(claimedId)).toBe('not_pending');
    const rest = deadlineIds.find((id) => !doneIds.has(id))!;
    expect(await run(rest)).toBe('done');
    expect(await statusesOf(deadlineIds)).toEqual({ done: BATCH_SIZE + 50 });
    expect(await dueNotifications(followUpIds)).toHaveLength(BATCH_SIZE + 50);
  });

  it('when a batch runs, then its queries do not grow with its size (one per table, not one per deadline)', async () => {
    const count = async (n: number) => {
      const team = await createTeam();
      const { deadlineIds } = await dueFollowUps(team, n);
      let queries = 0;
      const onQuery = () => (queries += 1);
      ctx.deps.knex.on('query', onQuery);
      try {
        expect(await run(deadlineIds[0])).toBe('done');
      } finally {
        ctx.deps.knex.off('query', onQuery);
      }
      expect(await statusesOf(deadlineIds)).toEqual({ done: n });
      return queries;
    };
    const small = await count(2);
    expect(await count(BATCH_SIZE)).toBe(small);
    // Read, BEGIN, lock, claim, 5 reads and writes of the rule, the statuses, COMMIT.
    expect(small).toBeLessThanOrEqual(12);
  });

  it('when deadlines are of another structure, another kind, not due yet or already failed once, then a batch leaves them to their own jobs', async () => {
    const team = await createTeam();
    const other = await createTeam();
    const { deadlineIds } = await dueFollowUps(team, 3);
    const { deadlineIds: otherStructure } = await dueFollowUps(other, 2);
    const { deadlineIds: notDue } = await dueFollowUps(team, 2, LATER);
    const { deadlineIds: failedOnce } = await dueFollowUps(team, 1);
    await testKnex()('deadlines')
      .whereIn('id', failedOnce)
      .update({ attempts: 1, last_error: 'Error: earlier' });
    const { deadlineIds: otherKind } = await dueFollowUps(team, 1);
    await testKnex()('deadlines').whereIn('id', otherKind).update({ kind: 'follow_up.escalate' });

    expect(await run(deadlineIds[0])).toBe('done');
    expect(await statusesOf(deadlineIds)).toEqual({ done: 3 });
    for (const ids of [otherStructure, notDue, failedOnce, otherKind])
      expect(await statusesOf(ids)).toEqual({ pending: ids.length });

    // The one that failed once is delivered alone by its own job: its batch holds only itself.
    expect(await run(failedOnce[0])).toBe('done');
    expect(await statusesOf(otherStructure)).toEqual({ pending: 2 });
  });

  it('when one deadline of a batch fails, then the batch is delivered one by one: the others are done once, the failing one keeps its attempt and is left to its own job, which delivers it alone', async () => {
    const team = await createTeam();
    const { followUpIds, deadlineIds } = await dueFollowUps(team, 6);
    const [lead, poison, unrecoverable] = deadlineIds;
    let failing = true;
    const guard = (ids: string[]) => {
      if (failing && ids.includes(poison)) throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
      if (ids.includes(unrecoverable)) throw new UnrecoverableError('the subject is broken');
    };
    const batchCalls: number[] = [];
    const batch: BatchProcessor = async (c) => {
      batchCalls.push(c.deadlines.length);
      guard(c.deadlines.map((d) => d.id));
      return batchProcessors[FOLLOW_UP_DUE](c);
    };
    const single: Processor = async (c) => {
      guard([c.deadline.id]);
      return processors[FOLLOW_UP_DUE](c);
    };
    const registry = { ...processors, [FOLLOW_UP_DUE]: single };
    const batches = { [FOLLOW_UP_DUE]: batch };

    expect(await run(lead, registry, batches)).toBe('done');
    expect(batchCalls).toEqual([6]);
    const rows = await testKnex()('deadlines')
      .whereIn('id', deadlineIds)
      .select('id', 'status', 'attempts', 'last_error');
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(poison)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: 'Error: connect ECONNREFUSED 10.0.0.5:5432',
    });
    // What can never succeed fails at once, as its own job would have failed it.
    expect(byId.get(unrecoverable)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'UnrecoverableError: the subject is broken',
    });
    for (const id of deadlineIds.filter((i) => i !== poison && i !== unrecoverable))
      expect(byId.get(id)).toMatchObject({ status: 'done', attempts: 0 });
    expect(await dueNotifications(followUpIds)).toHaveLength(4);

    // Its own job: still failing, alone (no batch), so the job fails and BullMQ retries it.
    await expect(run(poison, registry, batches)).rejects.toThrow('ECONNREFUSED');
    expect(batchCalls).toEqual([6]);
    failing = false;
    expect(await run(poison, registry, batches)).toBe('done');
    expect(batchCalls).toEqual([6]);
    expect(await run(unrecoverable, registry, batches)).toBe('not_pending');
    expect(await dueNotifications(followUpIds)).toHaveLength(5);
  });

  it('when the job of the batch is the one that fails, then the others are still delivered and its own failure fails the job', async () => {
    const team = await createTeam();
    const { followUpIds, deadlineIds } = await dueFollowUps(team, 4);
    const [lead] = deadlineIds;
    const failOn = (ids: string[]) => {
      if (ids.includes(lead)) throw new Error('timeout exceeded when trying to connect');
    };
    const batches = {
      [FOLLOW_UP_DUE]: (async (c) => {
        failOn(c.deadlines.map((d) => d.id));
        return batchProcessors[FOLLOW_UP_DUE](c);
      }) as BatchProcessor,
    };
    const registry = {
      ...processors,
      [FOLLOW_UP_DUE]: (async (c) => {
        failOn([c.deadline.id]);
        return processors[FOLLOW_UP_DUE](c);
      }) as Processor,
    };
    await expect(run(lead, registry, batches)).rejects.toThrow('timeout exceeded');
    expect(await statusesOf(deadlineIds.slice(1))).toEqual({ done: 3 });
    // The job's own failure is counted by the worker's failed handler, not here.
    expect(await testKnex()('deadlines').where({ id: lead }).first()).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
    expect(await dueNotifications(followUpIds)).toHaveLength(3);
  });

  it('when overdue reminders fall due together, then one job delivers them as a batch, each assignee reminded once, and one whose follow-up was done is skipped', async () => {
    const team = await createTeam();
    // Follow-ups due three business days before the reminders' moment (Thursday → Tuesday).
    const { followUpIds, deadlineIds } = await dueFollowUps(
      team,
      5,
      new Date('2026-11-26T09:00:00.000Z'),
    );
    await testKnex()('deadlines')
      .whereIn('id', deadlineIds)
      .update({ kind: FOLLOW_UP_OVERDUE_REMINDER, due_at: NOW });
    await testKnex()('follow_ups').where({ id: followUpIds[4] }).update({ status: 'done' });
    expect(
      await processDeadline(
        ctx.deps,
        processors,
        FOLLOW_UP_OVERDUE_REMINDER,
        deadlineIds[0],
        batchProcessors,
      ),
    ).toBe('done');
    const rows = await testKnex()('deadlines')
      .whereIn('id', deadlineIds)
      .select('id', 'status', 'last_error', 'processed_at');
    expect(new Set(rows.map((r) => new Date(r.processed_at).getTime())).size).toBe(1);
    const skippedRow = rows.find((r) => r.status === 'skipped');
    expect(skippedRow).toMatchObject({ id: deadlineIds[4], last_error: 'follow-up is done' });
    expect(rows.filter((r) => r.status === 'done')).toHaveLength(4);
    const notes = await testKnex()('notifications')
      .where({ kind: NOTIFY_FOLLOW_UP_OVERDUE })
      .whereIn('subject_id', followUpIds);
    expect(notes).toHaveLength(4);
    expect(notes[0]).toMatchObject({ recipient_id: team.worker.id });
    expect(notes[0].title).toMatch(/^Suivi en retard de 3 jours ouvrés : Rappeler \d$/);
  });

  it('when the real worker faces many due deadlines at once, then each is delivered once, in far fewer transactions than deadlines', async () => {
    const team = await createTeam();
    const n = 3 * BATCH_SIZE;
    const { followUpIds, deadlineIds } = await dueFollowUps(team, n);
    await ctx.deps.relay.enqueue(deadlineIds);
    const worker = await startDeadlineWorker(ctx.deps, { concurrency: 5 });
    try {
      await waitFor(
        async () => (await statusesOf(deadlineIds)).done === n,
        'every deadline to be done',
        60_000,
      );
    } finally {
      await worker.close();
    }
    const notes = await dueNotifications(followUpIds);
    expect(notes).toHaveLength(n);
    expect(new Set(notes.map((x) => x.subject_id)).size).toBe(n);
    const { rows } = await testKnex().raw<{ rows: { commits: number }[] }>(
      'SELECT count(DISTINCT processed_at)::int AS commits FROM deadlines WHERE id = ANY(?)',
      [deadlineIds],
    );
    expect(rows[0].commits).toBeLessThan(n / 10);
  });
});
