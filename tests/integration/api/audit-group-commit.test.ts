import knexFactory, { type Knex } from 'knex';
import type { Actor } from '../../../server/auth/actor';
import { createAuditRepository } from '../../../server/features/audit/audit-repository';
import {
  createAuditTrail,
  GROUP_COMMIT_MAX_EVENTS,
} from '../../../server/features/audit/audit-trail';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { refuseInserts, testKnex } from '../../setup/db';
import { TEST_DATABASE_URL } from '../../setup/env';
import { createStructure, createTeam } from '../../setup/factories';
import { capture } from '../../setup/plans';
import { createPerson } from './helpers';

/**
 * The audit events written outside a transaction (the reads') are committed in groups: those of
 * requests arriving while an INSERT is in flight go together in the next one. Each caller still
 * waits for its own events, one refused event fails its own caller only, a structure whose row a
 * change holds makes no other structure wait, and an INSERT that does not answer frees its queue.
 */
describe('the audit trail’s group commit', () => {
  const event = (structureId: string, action: string, actor: Actor | null = null) => ({
    actor,
    structureId,
    action,
    subjectType: 'structure',
  });
  const newTrail = (boundMs = 30_000) => createAuditTrail(createAuditRepository(), { boundMs });
  const rowsOf = (structureId: string) =>
    testKnex()('audit_events').where({ structure_id: structureId }).orderBy('id');

  it('when events arrive while one is being written, then they are written together by the next INSERT, each one a row', async () => {
    const { id: structureId } = await createStructure();
    const trail = newTrail();
    const sent = await capture(testKnex(), /^insert into "audit_events"/, () =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          trail.record(testKnex(), event(structureId, `test.read.${i}`)),
        ),
      ),
    );
    // The first alone, at once; the nine that came meanwhile in one statement.
    expect(sent.map((q) => q.bindings.length / 8)).toEqual([1, 9]);
    expect((await rowsOf(structureId)).map((r) => r.action)).toEqual(
      Array.from({ length: 10 }, (_, i) => `test.read.${i}`),
    );
  });

  it('when more events wait than one INSERT takes, then they are split between INSERTs, whole callers only', async () => {
    const { id: structureId } = await createStructure();
    const trail = newTrail();
    const many = Array.from({ length: GROUP_COMMIT_MAX_EVENTS - 1 }, (_, i) =>
      event(structureId, `test.page.${i}`),
    );
    const sent = await capture(testKnex(), /^insert into "audit_events"/, () =>
      Promise.all([
        trail.record(testKnex(), event(structureId, 'test.first')),
        // One page's reads: 499 events that go in one INSERT, never apart.
        trail.together({ ip: null }, async (ctx) => {
          for (const e of many) await trail.record(testKnex(), e, ctx);
        }),
        trail.record(testKnex(), event(structureId, 'test.second')),
        trail.record(testKnex(), event(structureId, 'test.third')),
      ]),
    );
    // together() queues its events when its reads end, after the two single events (queued at
    // once): the first INSERT takes the first event alone, the second the next waiting callers
    // up to the limit (two singles, then the page would pass it), the third the page.
    expect(sent.map((q) => q.bindings.length / 8)).toEqual([1, 2, GROUP_COMMIT_MAX_EVENTS - 1]);
    expect(await rowsOf(structureId)).toHaveLength(GROUP_COMMIT_MAX_EVENTS + 2);
  });

  it('when one caller’s event is refused within a group, then that caller fails and the others’ events are written', async () => {
    const { id: structureId } = await createStructure();
    const trail = newTrail();
    const drop = await refuseInserts('audit_events', { action: 'test.refused' });
    let outcomes: PromiseSettledResult<void>[];
    try {
      outcomes = await Promise.allSettled(
        ['test.a', 'test.b', 'test.refused', 'test.c'].map((action) =>
          trail.record(testKnex(), event(structureId, action)),
        ),
      );
    } finally {
      await drop();
    }
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toMatch(/refused by the test/);
    expect((await rowsOf(structureId)).map((r) => r.action).sort()).toEqual([
      'test.a',
      'test.b',
      'test.c',
    ]);
  });

  describe('while a change holds a row the INSERT checks', () => {
    // The trail's own pool, so that a test may end one of its connections.
    let own: Knex;
    beforeAll(() => {
      own = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 4 } });
    });
    afterAll(() => own.destroy());

    /** Holds `table`'s row `id` FOR UPDATE (as a settings change holds its structure) until released. */
    async function hold(table: string, id: string) {
      const trx = await testKnex().transaction();
      await trx(table).where({ id }).forUpdate().first('id');
      const { rows } = await trx.raw<{ rows: { pid: number }[] }>('SELECT pg_backend_pid() AS pid');
      return { pid: rows[0].pid, release: () => trx.rollback() };
    }

    /** The backend of the INSERT waiting for `holder`'s lock, once it waits. */
    async function waitingInsert(holder: number): Promise<number> {
      for (;;) {
        const { rows } = await testKnex().raw<{ rows: { pid: number }[] }>(
          `SELECT pid FROM pg_stat_activity
            WHERE query LIKE 'insert into "audit_events"%' AND ? = ANY (pg_blocking_pids(pid))`,
          [holder],
        );
        if (rows[0]) return rows[0].pid;
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const actorOf = (u: { id: string }, role: Actor['role']) => ({ id: u.id, role }) as Actor;

    it('when one structure’s row is held, then another structure’s reads are written meanwhile', async () => {
      const [a, b] = [await createStructure(), await createStructure()];
      const trail = newTrail();
      const held = await hold('structures', a.id);
      let aWritten = false;
      const first = trail.record(own, event(a.id, 'test.held')).then(() => (aWritten = true));
      try {
        await waitingInsert(held.pid);
        await trail.record(own, event(b.id, 'test.free'));
        expect((await rowsOf(b.id)).map((r) => r.action)).toEqual(['test.free']);
        expect(aWritten).toBe(false);
      } finally {
        await held.release();
      }
      await first;
      expect((await rowsOf(a.id)).map((r) => r.action)).toEqual(['test.held']);
    });

    it('when an INSERT does not answer within the bound, then its caller fails with ETIMEDOUT and the next INSERT goes on', async () => {
      const team = await createTeam();
      const trail = newTrail(500);
      // The worker's row held: an INSERT naming the worker as actor waits; the manager's does not.
      const held = await hold('users', team.worker.id);
      try {
        const stuck = trail.record(
          own,
          event(team.structure.id, 'test.stuck', actorOf(team.worker, 'worker')),
        );
        const next = trail.record(
          own,
          event(team.structure.id, 'test.next', actorOf(team.manager, 'manager')),
        );
        await expect(stuck).rejects.toMatchObject({ code: 'ETIMEDOUT' });
        // Written while the first INSERT still waits for the held row.
        await next;
        expect((await rowsOf(team.structure.id)).map((r) => r.action)).toEqual(['test.next']);
      } finally {
        await held.release();
      }
    });

    it('when the connection is lost under a grouped INSERT, then its callers fail and nothing is written again', async () => {
      const team = await createTeam();
      const trail = newTrail();
      const held = await hold('users', team.worker.id);
      const worker = actorOf(team.worker, 'worker');
      let outcomes: PromiseSettledResult<void>[] = [];
      const sent = await capture(own, /^insert into "audit_events"/, async () => {
        try {
          // The manager's event goes alone and is written; the worker's three, which came
          // meanwhile, go together and wait for the held row, until their connection is ended.
          const calls = [
            trail.record(
              own,
              event(team.structure.id, 'test.alone', actorOf(team.manager, 'manager')),
            ),
            ...['test.lost.1', 'test.lost.2', 'test.lost.3'].map((action) =>
              trail.record(own, event(team.structure.id, action, worker)),
            ),
          ];
          const settled = Promise.allSettled(calls);
          await testKnex().raw('SELECT pg_terminate_backend(?)', [await waitingInsert(held.pid)]);
          outcomes = await settled;
        } finally {
          await held.release();
        }
      });
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      // No INSERT after the lost one: its rows might have been committed before the connection
      // went, and an audit row written twice stays.
      expect(sent.map((q) => q.bindings.length / 8)).toEqual([1, 3]);
      expect((await rowsOf(team.structure.id)).map((r) => r.action)).toEqual(['test.alone']);
    });
  });

  describe('over HTTP', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext();
    });
    afterAll(() => ctx.close());

    it('when a worker reads several files at once and the audit of one read cannot be written, then that read answers 500 without the file and the others answer, each audited', async () => {
      const team = await createTeam();
      const worker = await loginAs(ctx.app, team.worker.email);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await createPerson(worker)).id);
      const refused = ids[3];
      const drop = await refuseInserts('audit_events', {
        action: 'person.read',
        subject_id: refused,
      });
      let answers;
      try {
        answers = await Promise.all(ids.map((id) => worker.get(`/api/persons/${id}`)));
      } finally {
        await drop();
      }
      expect(answers.map((r) => r.status)).toEqual(ids.map((id) => (id === refused ? 500 : 200)));
      expect(JSON.stringify(answers[3].body)).not.toContain(refused);
      const audited = await testKnex()('audit_events')
        .where({ structure_id: team.structure.id, action: 'person.read' })
        .pluck('subject_id');
      expect(audited.sort()).toEqual(ids.filter((id) => id !== refused).sort());
    });
  });
});
