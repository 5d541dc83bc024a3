import { createAuditRepository } from '../../../server/features/audit/audit-repository';
import {
  createAuditTrail,
  GROUP_COMMIT_MAX_EVENTS,
} from '../../../server/features/audit/audit-trail';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { refuseInserts, testKnex } from '../../setup/db';
import { createStructure, createTeam } from '../../setup/factories';
import { capture } from '../../setup/plans';
import { createPerson } from './helpers';

/**
 * The audit events written outside a transaction (the reads') are committed in groups: those of
 * requests arriving while an INSERT is in flight go together in the next one. Each caller still
 * waits for its own events, and one refused event fails its own caller only.
 */
describe('the audit trail’s group commit', () => {
  const event = (structureId: string, action: string, subjectId: string | null = null) => ({
    actor: null,
    structureId,
    action,
    subjectType: 'structure',
    subjectId,
  });
  const rowsOf = (structureId: string) =>
    testKnex()('audit_events').where({ structure_id: structureId }).orderBy('id');

  it('when events arrive while one is being written, then they are written together by the next INSERT, each one a row', async () => {
    const { id: structureId } = await createStructure();
    const trail = createAuditTrail(createAuditRepository());
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
    const trail = createAuditTrail(createAuditRepository());
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
    const trail = createAuditTrail(createAuditRepository());
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
