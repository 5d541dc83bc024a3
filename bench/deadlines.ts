/**
 * The deadline scenario of `npm run bench` (issue 13): N deadlines due at once, delivered by
 * worker processes (jobs/worker.ts, the real entry point), against bare BullMQ (add + empty
 * processor, bench/raw-worker.ts) with as many processes and the same concurrency, in the same
 * run. Each side fills a paused queue first (the app through its outbox relay, as deadlines
 * written days ahead sit in Redis), then resumes it: the clock runs from the resume until the
 * last job is done (the app: every deadline row done, its notification written).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { BATCH_SIZE } from '../jobs/processor';
import { createDeadlineQueue, deadlineJobId } from '../jobs/queues';
import { FOLLOW_UP_DUE } from '../server/features/follow-ups/follow-up-schemas';

const ROOT = path.resolve(__dirname, '..');

export interface DeadlineBenchOptions {
  knex: Knex;
  databaseUrl: string;
  redisUrl: string;
  structureId: string;
  /** Deadlines due at once (issue 13: 100 000). */
  deadlines: number;
  /** Worker processes on each side. */
  workers: number;
  /** Jobs each worker process runs at once. */
  concurrency: number;
  log: (msg: string) => void;
}

export interface DeadlineSide {
  /** Seconds to fill the paused queue (the app: rows written, then relayed by the workers). */
  fillSeconds: number;
  /** Seconds from the resume until every job is done (the app: every deadline delivered). */
  deliverSeconds: number;
  jobsPerSecond: number;
  /**
   * The app: seconds from the resume until the queue is empty too. Batched kinds leave, after
   * the last delivery, jobs of deadlines a batch delivered, each a no-op read.
   */
  drainSeconds?: number;
}

export interface DeadlineBenchResult {
  deadlines: number;
  workers: number;
  concurrency: number;
  raw: DeadlineSide;
  app: DeadlineSide;
}

/**
 * BENCH_CPU_PROF=<dir>: the app's worker processes write their CPU profile there
 * (`node --cpu-prof`), as the web does in the HTTP scenarios.
 */
const profileFlags = (): string[] => {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
};

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a process and resolves once it has printed `ready`. */
async function startProcess(
  script: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  nodeFlags: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
      if (out.includes(ready)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${out}`)));
  });
  // Keep reading so a chatty process never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Until the queue holds no job waiting (paused included), delayed or active. The app's side
 * leaves out delayed jobs: its workers plan each structure's next digest and retention run,
 * days ahead, while the batch it measures is due at once.
 */
async function queueDrained(
  queue: ReturnType<typeof createDeadlineQueue>,
  withDelayed = true,
): Promise<void> {
  for (;;) {
    const c = await queue.getJobCounts(
      'wait',
      ...(withDelayed ? (['delayed'] as const) : []),
      'active',
      'prioritized',
      'waiting-children',
    );
    if (Object.values(c).every((n) => n === 0)) return;
    await sleep(100);
  }
}

async function rawSide(o: DeadlineBenchOptions, redis: Redis): Promise<DeadlineSide> {
  const prefix = `bench-raw-${crypto.randomBytes(4).toString('hex')}`;
  const queue = createDeadlineQueue(redis, prefix);
  const env = {
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(o.concurrency),
  };
  const children = await Promise.all(
    Array.from({ length: o.workers }, () => startProcess('bench/raw-worker.ts', env, 'READY')),
  );
  try {
    await queue.pause();
    const fill = process.hrtime.bigint();
    for (let i = 0; i < o.deadlines; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, o.deadlines - i) }, () => {
          const deadlineId = crypto.randomUUID();
          return {
            name: FOLLOW_UP_DUE,
            data: { deadlineId },
            opts: { jobId: deadlineJobId(deadlineId) },
          };
        }),
      );
    }
    const fillSeconds = seconds(fill);
    const start = process.hrtime.bigint();
    await queue.resume();
    await queueDrained(queue);
    const deliverSeconds = seconds(start);
    return { fillSeconds, deliverSeconds, jobsPerSecond: o.deadlines / deliverSeconds };
  } finally {
    await stopAll(children);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

async function appSide(o: DeadlineBenchOptions, redis: Redis): Promise<DeadlineSide> {
  const { knex } = o;
  const prefix = `bench-app-${crypto.randomBytes(4).toString('hex')}`;
  const queue = createDeadlineQueue(redis, prefix);
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    WORKER_CONCURRENCY: String(o.concurrency),
    DB_POOL_MAX: String(o.concurrency + 2),
    RELAY_INTERVAL_MS: '500',
  };
  // One due moment for the whole batch, in the past: the jobs are due as soon as they are added.
  const dueAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const persons: { id: string; referent_id: string }[] = await knex('persons')
    .where({ structure_id: o.structureId })
    .whereNotNull('referent_id')
    .orderBy('id')
    .limit(1000)
    .select('id', 'referent_id');
  const children = await Promise.all(
    Array.from({ length: o.workers }, () =>
      startProcess('jobs/worker.ts', env, 'Deadline worker started', profileFlags()),
    ),
  );
  const followUpIds: string[] = [];
  try {
    await queue.pause();
    const fill = process.hrtime.bigint();
    // What the unit of work writes for a follow-up falling due: the follow-up and its deadline
    // row, never enqueued here; the workers' relay loops enqueue them.
    for (let i = 0; i < o.deadlines; i += 5000) {
      await knex.transaction(async (trx) => {
        const n = Math.min(5000, o.deadlines - i);
        const rows = await trx('follow_ups')
          .insert(
            Array.from({ length: n }, (_, k) => {
              const p = persons[(i + k) % persons.length];
              return {
                structure_id: o.structureId,
                person_id: p.id,
                assignee_id: p.referent_id,
                created_by: p.referent_id,
                title: 'Échéance du banc',
                due_at: dueAt,
                status: 'open',
              };
            }),
          )
          .returning('id');
        followUpIds.push(...rows.map((r: { id: string }) => r.id));
        await trx('deadlines').insert(
          rows.map((r: { id: string }) => ({
            structure_id: o.structureId,
            kind: FOLLOW_UP_DUE,
            subject_type: 'follow_up',
            subject_id: r.id,
            due_at: dueAt,
          })),
        );
      });
    }
    const pending = () =>
      knex('deadlines')
        .where({ structure_id: o.structureId, kind: FOLLOW_UP_DUE, due_at: dueAt })
        .andWhere({ status: 'pending' });
    for (;;) {
      const [{ n }] = await pending().clone().whereNull('enqueued_at').count({ n: '*' });
      if (Number(n) === 0) break;
      await sleep(200);
    }
    const fillSeconds = seconds(fill);
    o.log(`  app: ${o.deadlines} deadlines written and relayed in ${fillSeconds.toFixed(1)} s`);

    const start = process.hrtime.bigint();
    await queue.resume();
    for (;;) {
      const [{ n }] = await pending().clone().count({ n: '*' });
      if (Number(n) === 0) break;
      await sleep(200);
    }
    const deliverSeconds = seconds(start);
    await queueDrained(queue, false);
    const drainSeconds = seconds(start);
    const [{ n: done }] = await knex('deadlines')
      .where({ structure_id: o.structureId, kind: FOLLOW_UP_DUE, due_at: dueAt, status: 'done' })
      .count({ n: '*' });
    if (Number(done) !== o.deadlines)
      throw new Error(`only ${done} of ${o.deadlines} deadlines were delivered`);
    return {
      fillSeconds,
      deliverSeconds,
      jobsPerSecond: o.deadlines / deliverSeconds,
      drainSeconds,
    };
  } finally {
    await stopAll(children);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    // The bench data stays as seeded: the batch and its notifications go.
    for (let i = 0; i < followUpIds.length; i += 5000) {
      const ids = followUpIds.slice(i, i + 5000);
      await knex('notifications').whereIn('subject_id', ids).del();
      await knex('deadlines').whereIn('subject_id', ids).del();
      await knex('follow_ups').whereIn('id', ids).del();
    }
    // The tables back as they were before the run: a run inserts and deletes 100 000 rows in
    // each, and a plain VACUUM (what autovacuum would do) frees the rows but leaves the indexes
    // at their largest, so run after run they grew (2026-12-06, 20 k, before the claim index:
    // 3 588 to 4 540 deadlines/s after a few runs, 11 481 and 11 708 once these three tables
    // were rewritten; most of that was the claim's plan walking them, docs/benchmarks.md,
    // "The claim's plan"). Rewritten here, in a few seconds, so each run starts alike.
    await knex.raw('VACUUM (FULL, ANALYZE) notifications, deadlines, follow_ups');
  }
}

export async function deadlineBench(o: DeadlineBenchOptions): Promise<DeadlineBenchResult> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  try {
    o.log(
      `Deadlines: ${o.deadlines} due at once, ${o.workers} worker processes × ${o.concurrency} jobs at once`,
    );
    const raw = await rawSide(o, redis);
    o.log(
      `  raw BullMQ: ${raw.jobsPerSecond.toFixed(0)} jobs/s (${raw.deliverSeconds.toFixed(1)} s)`,
    );
    const app = await appSide(o, redis);
    o.log(
      `  app: ${app.jobsPerSecond.toFixed(0)} deadlines/s (${app.deliverSeconds.toFixed(1)} s; queue empty after ${app.drainSeconds?.toFixed(1)} s)`,
    );
    return { deadlines: o.deadlines, workers: o.workers, concurrency: o.concurrency, raw, app };
  } finally {
    redis.disconnect();
  }
}

export const DEADLINE_SECTION_TITLE = '## Deadlines due at once';

/** The section of docs/benchmarks.md this scenario writes (markdown lines). */
export function deadlineSection(r: DeadlineBenchResult, when: string, machine: string): string[] {
  const ratio = r.app.jobsPerSecond / r.raw.jobsPerSecond;
  const drain = r.app.drainSeconds ?? r.app.deliverSeconds;
  const drainRatio = r.deadlines / drain / r.raw.jobsPerSecond;
  const row = (name: string, s: DeadlineSide, queueEmpty: number) =>
    `| ${name} | ${s.fillSeconds.toFixed(1)} | ${s.deliverSeconds.toFixed(1)} | ${queueEmpty.toFixed(1)} | ${s.jobsPerSecond.toFixed(0)} |`;
  return [
    DEADLINE_SECTION_TITLE,
    '',
    `Run: ${when}, ${machine}, with`,
    `\`BENCH_DEADLINES=${r.deadlines} BENCH_WORKERS=${r.workers} BENCH_WORKER_CONCURRENCY=${r.concurrency} npm run bench\``,
    '(`BENCH_ONLY=deadlines` runs this part alone and rewrites only this section).',
    '',
    `${r.deadlines} follow-ups fall due at the same moment. ${r.workers} worker processes (\`jobs/worker.ts\`,`,
    `${r.concurrency} jobs at once each) deliver them, against as many bare BullMQ workers with an empty`,
    'processor (`bench/raw-worker.ts`) on the same Redis. Each side first fills a paused queue (the',
    "app: follow-up and deadline rows written, then enqueued by the workers' relay loops, one job per",
    'deadline, as deadlines written days ahead wait in Redis), then resumes it: delivery runs from the',
    'resume until every job is done (the app: every deadline row `done` and its notification',
    'written). `follow_up.due` is delivered in batches (jobs/README.md, "Batched delivery"): the job',
    `of a pending deadline claims up to ${BATCH_SIZE - 1} other due ones and delivers them in one transaction; the`,
    'jobs of the claimed deadlines are still in the queue and end as no-ops, so the queue empties',
    'after the last delivery (the "queue empty" column).',
    '',
    '| side | fill s | deliver s | queue empty s | jobs/s |',
    '|---|---|---|---|---|',
    row('bare BullMQ (add + empty processor)', r.raw, r.raw.deliverSeconds),
    row('app: `follow_up.due` deadlines delivered', r.app, drain),
    '',
    `Ratio app ÷ bare BullMQ: **${ratio.toFixed(2)}** on deliveries (target ≥ 0.5); ${drainRatio.toFixed(2)} counting`,
    `until the app's queue is empty. All ${r.deadlines} delivered in ${r.app.deliverSeconds.toFixed(1)} s (target: 100 000 in ≤ 60 s).`,
  ];
}
