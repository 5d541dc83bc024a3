import crypto from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createDeadlineQueue, deadlineJobId, type DeadlineJobData } from '../../../jobs/queues';
import { createOutboxIn } from '../../../server/features/deadlines/outbox';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { REFERRAL_EXPIRE } from '../../../server/features/referrals/referral-schemas';
import {
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  NOTIFY_FOLLOW_UP_ESCALATED,
  NOTIFY_FOLLOW_UP_OVERDUE,
} from '../../../server/features/deadlines/rule-kinds';
import { DEFAULT_PASSWORD } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../setup/env';
import { createPartner, createTeam } from '../../setup/factories';
import { waitFor } from '../deadlines/helpers';
import {
  childEnv,
  exitWithin,
  login,
  start,
  waitForHealthy,
  waitForOutput,
  type Running,
} from '../start/processes';
import { freePort } from '../../setup/ports';

/**
 * Issue 13, "more processes, one load": two web processes and three worker processes, all the
 * real entry points (server/index.ts with RUN_WORKER_IN_WEB=false, jobs/worker.ts), on one
 * PostgreSQL database and one Redis database. Follow-ups and referrals are written through both
 * webs, each request to the next web with a session opened on either; each follow-up plans three
 * deadlines (due, overdue reminder, escalation) and each referral its expiry. The follow-ups fall
 * due a few seconds after they are written, while the writes go on; then the reminders,
 * escalations and expiries are brought forward to one moment through the outbox (as the settings
 * service re-plans pending deadlines), so that the workers' relay loops enqueue them and the
 * three workers face them all at once. One worker is killed with SIGKILL a third of the way
 * through that batch. Every deadline must be delivered exactly once, counted in its side effects
 * in the database; the killed worker's jobs are taken over by the others after the stall
 * interval. No assertion is about speed: the numbers are sized for `npm test` on a busy
 * two-core machine (DEADLINES = PERSONS × (3 × FOLLOW_UPS_PER_PERSON + 1) = 2 000; the due
 * follow-ups are delivered in batches, so the kill may fall in a batch: its rows are unlocked by
 * the rollback and their own jobs deliver them).
 */

const PERSONS = 80;
const FOLLOW_UPS_PER_PERSON = 8;
const FOLLOW_UPS = PERSONS * FOLLOW_UPS_PER_PERSON;
const DEADLINES = FOLLOW_UPS * 3 + PERSONS;
/** Requests in flight at once, spread over both webs. */
const LANES = 8;
/** Short stall settings (the defaults are 30 s each): the killed worker's jobs come back fast. */
const LOCK_DURATION_MS = 5000;
const STALLED_INTERVAL_MS = 1000;

jest.setTimeout(240_000);

const prefix = `test-scale-${crypto.randomBytes(4).toString('hex')}`;
const started: Running[] = [];

const baseEnv = (extra: Record<string, string> = {}) =>
  childEnv({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    RUN_WORKER_IN_WEB: 'false',
    DB_POOL_MAX: '6',
    LOG_LEVEL: 'warn',
    SESSION_CLEANUP_INTERVAL_MS: '0',
    ...extra,
  });

function startWeb(port: number): Running {
  const web = start('server/index.ts', [], baseEnv({ HOST: '127.0.0.1', PORT: String(port) }));
  started.push(web);
  return web;
}

function startWorker(): Running {
  const worker = start(
    'jobs/worker.ts',
    [],
    baseEnv({
      // 'Deadline worker started' is an info line.
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '5',
      WORKER_LOCK_DURATION_MS: String(LOCK_DURATION_MS),
      WORKER_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
      RELAY_INTERVAL_MS: '200',
      // A job that stalls more than BullMQ allows is failed by it; the reconciler re-arms it.
      RECONCILE_INTERVAL_MS: '5000',
      DEADLINE_RETRY_COOLDOWN_MS: '1000',
    }),
  );
  started.push(worker);
  return worker;
}

afterAll(async () => {
  for (const p of started)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** One signed-in user's requests, each to the next web in turn (sessions live in PostgreSQL). */
function client(bases: string[], cookie: string) {
  let next = 0;
  return async (method: string, path: string, body: unknown) => {
    const base = bases[next++ % bases.length];
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { id: string };
    if (res.status !== 201)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** The number of rows a query selects. */
async function count(q: Knex.QueryBuilder): Promise<number> {
  const [{ n }] = await q.count({ n: '*' });
  return Number(n);
}

describe('two webs and three workers on one PostgreSQL and one Redis', () => {
  it(`when ${DEADLINES} deadlines written through both webs fall due within a minute and a worker is killed with SIGKILL mid-way, then each is delivered exactly once and none is lost`, async () => {
    const team = await createTeam();
    const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);

    // Both webs (they find the database migrated) and the three workers, started together.
    const ports = [await freePort(), await freePort()];
    const bases = ports.map((p) => `http://127.0.0.1:${p}`);
    const webs = ports.map(startWeb);
    const workers = [startWorker(), startWorker(), startWorker()];
    await Promise.all([
      ...webs.map((w, i) => waitForHealthy(`${bases[i]}/healthz`, w, 90_000)),
      ...workers.map((w) => waitForOutput(w, 'Deadline worker started', 90_000)),
    ]);

    // One session per user, each opened on a different web and used on both.
    const users = [
      {
        id: team.worker.id,
        send: client(bases, await login(bases[0], team.worker.email, DEFAULT_PASSWORD)),
      },
      {
        id: team.worker2.id,
        send: client(
          [...bases].reverse(),
          await login(bases[1], team.worker2.email, DEFAULT_PASSWORD),
        ),
      },
    ];

    // Write: persons, their follow-ups due a few seconds later, a consent and a referral each.
    const followUpIds: string[] = [];
    const referralIds: string[] = [];
    let latestDue = 0;
    let nextPerson = 0;
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        const { id: assigneeId, send } = users[lane % users.length];
        while (nextPerson < PERSONS) {
          const n = nextPerson++;
          const person = await send('POST', '/api/persons', {
            alias: `Personne ${n}`,
            source: 'outreach',
          });
          for (let i = 0; i < FOLLOW_UPS_PER_PERSON; i++) {
            const dueAt = Date.now() + 3000;
            latestDue = Math.max(latestDue, dueAt);
            const f = await send('POST', `/api/persons/${person.id}/follow-ups`, {
              dueAt: new Date(dueAt).toISOString(),
              title: `Rappeler (${n}.${i})`,
              assigneeId,
            });
            followUpIds.push(f.id);
          }
          await send('POST', `/api/persons/${person.id}/consents`, {
            purpose: 'referral',
            partnerId: partner.id,
            method: 'oral',
            givenAt: new Date(Date.now() - 60_000).toISOString(),
          });
          const r = await send('POST', `/api/persons/${person.id}/referrals`, {
            partnerId: partner.id,
            reason: 'Aide alimentaire',
            sharedSummary: 'Foyer de deux personnes',
          });
          referralIds.push(r.id);
        }
      }),
    );
    expect(followUpIds).toHaveLength(FOLLOW_UPS);
    expect(referralIds).toHaveLength(PERSONS);

    // The due deadlines, enqueued after commit by the web that wrote each follow-up.
    const dueDeadlines = await testKnex()('deadlines')
      .whereIn('subject_id', followUpIds)
      .andWhere({ kind: FOLLOW_UP_DUE })
      .pluck('id');
    expect(dueDeadlines).toHaveLength(FOLLOW_UPS);
    expect(
      await count(testKnex()('deadlines').whereIn('id', dueDeadlines).whereNull('enqueued_at')),
    ).toBe(0);

    // The reminders and escalations (days away) and the expiries (10 business days away),
    // brought forward to one moment after every follow-up's due moment, through the outbox:
    // new rows that nothing has enqueued yet, for the workers' relay loops.
    const batchAt = new Date(Math.max(latestDue, Date.now()) + 2000);
    const batch = await testKnex().transaction(async (trx) => {
      const outbox = createOutboxIn(createDeadlineRepository())(trx);
      const pending = await trx('deadlines')
        .where({ status: 'pending' })
        .andWhere((q) =>
          q
            .where((f) =>
              f
                .whereIn('subject_id', followUpIds)
                .whereIn('kind', [FOLLOW_UP_OVERDUE_REMINDER, FOLLOW_UP_ESCALATE]),
            )
            .orWhere((r) => r.whereIn('subject_id', referralIds).where({ kind: REFERRAL_EXPIRE })),
        )
        .pluck('id');
      expect(pending).toHaveLength(FOLLOW_UPS * 2 + PERSONS);
      const fresh: string[] = [];
      for (const id of pending) fresh.push((await outbox.reschedule(id, batchAt))!);
      return fresh;
    });
    const targets = [...dueDeadlines, ...batch];
    expect(new Set(targets).size).toBe(DEADLINES);

    const finished = (ids: string[]) =>
      count(testKnex()('deadlines').whereIn('id', ids).whereNot({ status: 'pending' }));
    await waitFor(
      async () => (await finished(batch)) >= batch.length / 3,
      'a third of the batch',
      120_000,
    );
    const [victim, ...survivors] = workers;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    expect(await finished(batch)).toBeLessThan(batch.length);

    await waitFor(
      async () => (await finished(targets)) === DEADLINES,
      'every deadline to be delivered',
      150_000,
    );

    // Delivered, never failed nor skipped.
    const { rows: statuses } = await testKnex().raw<{ rows: { status: string; n: number }[] }>(
      'SELECT status, count(*)::int AS n FROM deadlines WHERE id = ANY(?) GROUP BY status',
      [targets],
    );
    expect(statuses).toEqual([{ status: 'done', n: DEADLINES }]);

    // Exactly once, counted in the side effects: for each follow-up, one due notification and
    // one overdue reminder for its assignee and one escalation for the manager; for each
    // referral, its expiry (the status, one history event, one notification of the requester).
    const notified = async (kind: string, subjects: string[]) => {
      const rows = await testKnex()('notifications')
        .where({ kind })
        .whereIn('subject_id', subjects)
        .select('subject_id', 'recipient_id');
      expect(new Set(rows.map((n) => n.subject_id)).size).toBe(subjects.length);
      return rows as { subject_id: string; recipient_id: string }[];
    };
    const assignees = new Set(users.map((u) => u.id));
    for (const kind of [FOLLOW_UP_DUE, NOTIFY_FOLLOW_UP_OVERDUE]) {
      const rows = await notified(kind, followUpIds);
      expect(rows).toHaveLength(FOLLOW_UPS);
      expect(rows.every((n) => assignees.has(n.recipient_id))).toBe(true);
    }
    const escalations = await notified(NOTIFY_FOLLOW_UP_ESCALATED, followUpIds);
    expect(escalations).toHaveLength(FOLLOW_UPS);
    expect(escalations.every((n) => n.recipient_id === team.manager.id)).toBe(true);

    expect(
      await count(testKnex()('referrals').whereIn('id', referralIds).where({ status: 'expired' })),
    ).toBe(PERSONS);
    expect(
      await count(
        testKnex()('referral_events')
          .whereIn('referral_id', referralIds)
          .where({ to_status: 'expired' }),
      ),
    ).toBe(PERSONS);
    expect(await notified('referral.expired', referralIds)).toHaveLength(PERSONS);

    // The load was shared, and the crash was real: jobs the killed worker held were taken over
    // after the stall interval (BullMQ counts each take-over on the job) and completed by others.
    const queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createDeadlineQueue(queueRedis, prefix);
    try {
      const found = (await Promise.all(targets.map((id) => queue.getJob(deadlineJobId(id))))) as (
        Job<DeadlineJobData> | undefined
      )[];
      // A deadline a batch delivered before the relay enqueued it never gets a job: the relay
      // enqueues pending rows only. Every other one has its job, completed.
      const jobless = targets.filter((_, i) => !found[i]);
      expect(
        await count(testKnex()('deadlines').whereIn('id', jobless).whereNotNull('enqueued_at')),
      ).toBe(0);
      const jobIds = found.filter((j): j is Job<DeadlineJobData> => Boolean(j)).map((j) => j.id!);
      expect(jobIds.length).toBeGreaterThan(DEADLINES / 2);
      // The rows are all done, but a job the killed worker held may still read 'active': a
      // survivor's batch can deliver its row before the lock expires. Once the stall check takes
      // it over, it ends as a no-op. Wait for that (lock 5 s + stall interval 1 s), then read.
      const notCompleted = async () => {
        const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
        return states.filter((state) => state !== 'completed');
      };
      await waitFor(
        async () => (await notCompleted()).length === 0,
        'every job to complete',
        60_000,
      );
      expect(await notCompleted()).toHaveLength(0);
      const jobs = (await Promise.all(
        jobIds.map((id) => queue.getJob(id)),
      )) as Job<DeadlineJobData>[];
      const pidOf = (j: Job | undefined) =>
        String(j?.processedBy ?? '')
          .split(':')
          .pop();
      const pids = new Set(jobs.map(pidOf));
      for (const w of workers) expect(pids.has(String(w.child.pid))).toBe(true);
      const takenOver = jobs.filter((j) => j.stalledCounter > 0);
      expect(takenOver.length).toBeGreaterThan(0);
      const survivorPids = new Set(survivors.map((w) => String(w.child.pid)));
      expect(takenOver.every((j) => survivorPids.has(pidOf(j)!))).toBe(true);
    } finally {
      await queue.close();
      queueRedis.disconnect();
    }

    // The survivors and the webs still stop cleanly.
    for (const p of [...survivors, ...webs]) p.child.kill('SIGTERM');
    for (const p of [...survivors, ...webs]) expect(await exitWithin(p, 30_000)).toBe(0);
  });
});
