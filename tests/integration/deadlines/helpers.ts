import type { Express } from 'express';
import {
  createDeadlineRepository,
  type Deadline,
} from '../../../server/features/deadlines/deadline-repository';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { loginAs } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { start, testServicesEnv, waitForOutput, type Running } from '../start/processes';

const deadlineRepository = createDeadlineRepository();

/** Polls until check returns a value (not undefined/false), or fails after timeoutMs. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 10000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Until `settled()` is true or a backend of this database waits on a lock; says which. Bounded
 * (about 5 s): a request that neither settles nor waits is reported as 'neither'.
 */
export async function settledOrWaiting(
  settled: () => boolean,
): Promise<'settled' | 'waiting' | 'neither'> {
  for (let i = 0; i < 100; i++) {
    if (settled()) return 'settled';
    const waiting = await testKnex()
      .from('pg_stat_activity')
      .where({ datname: testKnex().raw('current_database()'), wait_event_type: 'Lock' })
      .first('pid');
    if (waiting) return 'waiting';
    await new Promise((r) => setTimeout(r, 50));
  }
  return settled() ? 'settled' : 'neither';
}

export async function deadlinesOf(followUpId: string): Promise<Deadline[]> {
  const rows = await testKnex()('deadlines')
    .where({ subject_type: 'follow_up', subject_id: followUpId, kind: FOLLOW_UP_DUE })
    .orderBy('created_at');
  return Promise.all(rows.map((r) => deadlineRepository.findById(testKnex(), r.id))) as Promise<
    Deadline[]
  >;
}

/** A recipient's notifications, of one kind when given. */
export async function notificationsFor(recipientId: string, kind?: string) {
  return testKnex()('notifications').where({ recipient_id: recipientId, ...(kind && { kind }) });
}

export async function waitForStatus(deadlineId: string, status: Deadline['status']) {
  return waitFor(async () => {
    const d = await deadlineRepository.findById(testKnex(), deadlineId);
    return d?.status === status ? d : undefined;
  }, `deadline ${deadlineId} to be ${status}`);
}

/** Creates a person and a follow-up through the API, as a worker would. */
export async function planFollowUp(
  app: Express,
  email: string,
  dueAt: Date,
  title = 'Rappeler pour le dossier APL',
) {
  const agent = await loginAs(app, email);
  const person = await agent
    .post('/api/persons')
    .send({ alias: 'Femme ~40 ans, gare routière', source: 'outreach' });
  if (person.status !== 201)
    throw new Error(`person: ${person.status} ${JSON.stringify(person.body)}`);
  const res = await agent
    .post(`/api/persons/${person.body.id}/follow-ups`)
    .send({ dueAt: dueAt.toISOString(), title });
  return { agent, personId: person.body.id as string, res };
}

/**
 * Starts the worker process with the slow follow_up.due processor (fixtures/slow-worker.ts) on
 * the test database and the given queue prefix; resolves once it is ready to take jobs.
 */
export async function startSlowWorker(
  queuePrefix: string,
  extra: Record<string, string> = {},
): Promise<Running> {
  const proc = start(
    'tests/integration/deadlines/fixtures/slow-worker.ts',
    [],
    testServicesEnv(queuePrefix, { NODE_ENV: 'test', LOG_LEVEL: 'silent', ...extra }),
  );
  await waitForOutput(proc, 'READY', 30_000);
  return proc;
}
