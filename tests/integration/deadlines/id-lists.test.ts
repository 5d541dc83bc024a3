import crypto from 'node:crypto';
import request from 'supertest';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { createReminderRepository } from '../../../server/features/deadlines/reminder-repository';
import { createReferralRepository } from '../../../server/features/referrals/referral-repository';
import { createReportRepository } from '../../../server/features/reports/report-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

// PostgreSQL's protocol counts a statement's parameters in 16 bits: one more id than that.
const MANY = 65_536;
const NOW = '2026-11-24T10:00:00+01:00';

/** Ids of nothing, with the real ones among them. */
const amongMany = (...real: string[]) => {
  const ids: string[] = Array.from({ length: MANY }, () => crypto.randomUUID());
  ids.splice(MANY / 2, 0, ...real);
  return ids;
};

describe('lists of ids longer than a statement can bind', () => {
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let structureId: string;
  let personId: string;
  let followUpId: string;
  let referralId: string;
  let reportId: string;
  const deadlines = createDeadlineRepository();

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    w = await referralWorld(ctx.app);
    structureId = w.team.structure.id;
    personId = (await createPerson(w.agents.worker)).id;
    const followUp = await w.agents.worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ dueAt: '2026-11-25T10:00:00+01:00', title: 'Rappeler pour la CSS' });
    expect(followUp.status).toBe(201);
    followUpId = followUp.body.id;
    await giveConsent(w.agents.worker, personId, w.other.id);
    const referral = await refer(w.agents.worker, personId, w.other.id);
    expect(referral.status).toBe(201);
    referralId = referral.body.id;
    const report = await request(ctx.app)
      .post(`/api/public/${w.team.structure.slug}/reports`)
      .send({ location: 'Quai Ligny', concern: 'Dort dehors depuis une semaine' });
    expect(report.status).toBe(202);
    reportId = (await testKnex()('reports').where({ structure_id: structureId }).first('id')).id;
  });
  afterAll(async () => ctx.close());

  it('when the reminder rules read their anchors for more ids than that, then they find the real ones', async () => {
    const reminders = createReminderRepository();
    const due = await reminders.followUpDueDates(testKnex(), structureId, amongMany(followUpId));
    expect([...due.keys()]).toEqual([followUpId]);
    const last = await reminders.lastContactsAt(testKnex(), structureId, amongMany(personId));
    expect([...last.keys()]).toEqual([personId]);
  });

  it('when referrals and reports read their anchors for more ids than that, then they find the real ones', async () => {
    const anchors = await createReferralRepository(ctx.deps.cipher).replanAnchors(
      testKnex(),
      structureId,
      amongMany(referralId),
    );
    expect([...anchors.keys()]).toEqual([referralId]);
    const arrived = await createReportRepository(ctx.deps.cipher).createdAt(
      testKnex(),
      structureId,
      amongMany(reportId),
    );
    expect([...arrived.keys()]).toEqual([reportId]);
  });

  it('when the outbox reads, moves, marks and cancels more deadlines than that, then it handles the real ones', async () => {
    const knex = testKnex();
    const [mine] = await knex('deadlines')
      .where({ subject_id: followUpId, kind: 'follow_up.overdue_reminder', status: 'pending' })
      .select('id', 'due_at');
    expect((await deadlines.pendingById(knex, amongMany(mine.id))).map((d) => d.id)).toEqual([
      mine.id,
    ]);
    expect(await deadlines.markEnqueued(knex, amongMany(mine.id))).toEqual([mine.id]);

    const later = new Date(new Date(mine.due_at).getTime() + 86_400_000);
    const moved = await knex.transaction((trx) =>
      deadlines.reschedule(trx, [
        ...amongMany().map((id) => ({ id, dueAt: later })),
        { id: mine.id, dueAt: later },
      ]),
    );
    expect(moved.cancelled).toEqual([mine.id]);
    expect(moved.created).toHaveLength(1);
    const copy = await knex('deadlines').where({ id: moved.created[0] }).first();
    expect(copy).toMatchObject({
      structure_id: structureId,
      kind: 'follow_up.overdue_reminder',
      subject_type: 'follow_up',
      subject_id: followUpId,
      status: 'pending',
    });
    expect(new Date(copy.due_at).toISOString()).toBe(later.toISOString());

    const cancelled = await knex.transaction((trx) =>
      deadlines.cancelHeld(trx, amongMany(moved.created[0])),
    );
    expect(cancelled).toEqual(moved.created);
  });
});

describe('reading a structure’s pending deadlines for re-planning', () => {
  it('when they are read in small batches, then every subject’s rows come in one batch, in due order, and all of them once', async () => {
    const knex = testKnex();
    const { id: structureId } = await knex('structures')
      .insert({ name: 'CCAS des lots', slug: `lots-${crypto.randomUUID().slice(0, 8)}` })
      .returning('id')
      .then(([r]) => r);
    const subjects = Array.from({ length: 5 }, () => crypto.randomUUID());
    // 1, 2, 3, 1 and 4 rows: batches of 2 must stretch to keep each subject whole.
    const rows = subjects.flatMap((subjectId, s) =>
      Array.from({ length: [1, 2, 3, 1, 4][s] }, (_, i) => ({
        structure_id: structureId,
        kind: 'referral.remind_partner',
        subject_type: 'referral',
        subject_id: subjectId,
        due_at: new Date(Date.UTC(2026, 11, 10 - i)),
      })),
    );
    await knex('deadlines').insert(rows);
    const batches: { subjectId: string; dueAt: Date }[][] = [];
    await knex.transaction((trx) =>
      createDeadlineRepository().eachPendingOfKinds(
        trx,
        structureId,
        ['referral.remind_partner'],
        async (pending) => {
          batches.push(pending);
        },
        2,
      ),
    );
    expect(batches.flat()).toHaveLength(rows.length);
    const seenIn = new Map<string, number>();
    batches.forEach((batch, i) => {
      for (const d of batch) {
        expect(seenIn.get(d.subjectId) ?? i).toBe(i);
        seenIn.set(d.subjectId, i);
      }
      for (const s of new Set(batch.map((d) => d.subjectId))) {
        const dues = batch.filter((d) => d.subjectId === s).map((d) => d.dueAt.getTime());
        expect(dues).toEqual([...dues].sort((a, b) => a - b));
      }
    });
    expect(seenIn.size).toBe(subjects.length);
    expect(batches.length).toBeGreaterThan(1);
  });
});
