import request from 'supertest';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import {
  NOTIFY_REPORT_ESCALATED,
  REPORT_ESCALATE,
} from '../../../server/features/reports/report-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { advanceTo, paris } from './time-machine';

/** Monday 7 December 2026, 9:00 in Paris. */
const START = paris('2026-12-07T09:00:00');

const REPORT = {
  location: 'Quai Ligny, sous le pont',
  concern: 'Une personne âgée dort dans sa voiture depuis plusieurs nuits.',
};

async function notes(recipientId: string) {
  return testKnex()('notifications')
    .where({ recipient_id: recipientId, kind: NOTIFY_REPORT_ESCALATED })
    .orderBy('created_at');
}

async function escalation(reportId: string) {
  return testKnex()('deadlines')
    .where({ subject_type: 'report', subject_id: reportId, kind: REPORT_ESCALATE })
    .orderBy('created_at', 'desc')
    .first();
}

let n = 0;

describe('a report left untriaged escalates to the managers after reportTriageDays business days, through the real worker', () => {
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

  async function world() {
    const team = await createTeam();
    const [manager2, disabled] = await Promise.all([
      createUser(team.structure.id, 'manager'),
      createUser(team.structure.id, 'manager'),
    ]);
    await testKnex()('users').where({ id: disabled.id }).update({ disabled_at: START });
    return { ...team, manager2, disabled };
  }

  async function report(slug: string) {
    n += 1;
    const res = await request(ctx.app)
      .post(`/api/public/${slug}/reports`)
      .set('X-Forwarded-For', `10.9.0.${n}`)
      .send(REPORT);
    expect(res.status).toBe(202);
    const row = await testKnex()('reports')
      .where({ receipt_number: res.body.receiptNumber })
      .first();
    return { id: row.id as string, receiptNumber: res.body.receiptNumber as string };
  }

  it('when nobody triages a report, then every active manager of the structure is told at the fifth business day, not a minute before, once; workers are not', async () => {
    const w = await world();
    const { id, receiptNumber } = await report(w.structure.slug);
    expect((await escalation(id)).due_at).toEqual(paris('2026-12-14T09:00:00'));

    await advanceTo(ctx, clock, paris('2026-12-14T08:59:00'));
    expect(await notes(w.manager.id)).toHaveLength(0);

    await advanceTo(ctx, clock, paris('2026-12-14T09:00:00'));
    for (const m of [w.manager, w.manager2]) {
      const [note] = await notes(m.id);
      expect(note).toMatchObject({
        subject_type: 'report',
        subject_id: id,
        title: `Signalement ${receiptNumber} en attente de tri depuis 5 jours ouvrés`,
        link: `/signalements/${id}`,
      });
      // The text of the report never goes into a notification (it may be emailed).
      expect(JSON.stringify(note)).not.toContain('Quai Ligny');
    }
    expect(await notes(w.disabled.id)).toHaveLength(0);
    expect(await notes(w.worker.id)).toHaveLength(0);
    expect((await escalation(id)).status).toBe('done');

    // The next morning's digest counts it for the managers told, never names it.
    await advanceTo(ctx, clock, paris('2026-12-15T08:30:00'));
    const digestOf = (userId: string) =>
      testKnex()('notifications')
        .where({ recipient_id: userId, kind: 'digest', due_moment: paris('2026-12-15T08:30:00') })
        .first();
    const digest = await digestOf(w.manager.id);
    expect(digest.body).toContain('1 signalement en attente de tri au-delà du délai');
    expect(digest.body).not.toContain(receiptNumber);
    expect((await digestOf(w.worker.id))?.body ?? '').not.toContain('signalement');
  });

  it('when a report is triaged in time, then its escalation is cancelled and nobody is told', async () => {
    const w = await world();
    const { id } = await report(w.structure.slug);
    const agent = await loginAs(ctx.app, w.worker.email);
    clock.set(paris('2026-12-10T15:00:00'));
    const res = await agent
      .post(`/api/reports/${id}/triage`)
      .send({ action: 'dismiss', reason: 'Déjà connu du SIAO' });
    expect(res.status).toBe(200);
    expect((await escalation(id)).status).toBe('cancelled');
    await advanceTo(ctx, clock, paris('2026-12-15T09:00:00'));
    expect(await notes(w.manager.id)).toHaveLength(0);
  });

  it('when the admin shortens reportTriageDays, then the waiting reports’ escalation is re-planned from their arrival, and Christmas does not count', async () => {
    const w = await world();
    clock.set(paris('2026-12-22T16:00:00'));
    const { id } = await report(w.structure.slug);
    // Tuesday 22 + 5 business days, Friday 25 (Christmas) and the weekend aside: Wednesday 30.
    expect((await escalation(id)).due_at).toEqual(paris('2026-12-30T16:00:00'));
    const admin = await loginAs(ctx.app, w.admin.email);
    const res = await admin.patch('/api/settings').send({ version: 1, reportTriageDays: 2 });
    expect(res.status).toBe(200);
    expect(res.body.replanned).toBeGreaterThanOrEqual(1);
    // Wednesday 23, Thursday 24.
    const moved = await escalation(id);
    expect(moved).toMatchObject({ status: 'pending', due_at: paris('2026-12-24T16:00:00') });
    await advanceTo(ctx, clock, paris('2026-12-24T16:00:00'));
    const [note] = await notes(w.manager.id);
    expect(note.title).toMatch(/depuis 2 jours ouvrés$/);
  });
});
