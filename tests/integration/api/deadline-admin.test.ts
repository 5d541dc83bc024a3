import request from 'supertest';
import { UnrecoverableError } from 'bullmq';
import { processors } from '../../../jobs/registry';
import { deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { createPrivateApp } from '../../../server/app';
import { fixedClock } from '../../../server/lib/clock';
import { QUEUE_DASHBOARD_PATH } from '../../../server/web/operator/queue-dashboard';
import { csrfOf } from '../../e2e/html';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { waitFor } from '../deadlines/helpers';

const NOW = new Date('2026-12-07T09:00:00.000Z');
/** Where the queue dashboard was served to admins on the app's port, before it moved. */
const OLD_BOARD = '/admin/file-des-echeances';

describe('failed deadlines, visible to admins on the deadlines page with its retry; the queue dashboard, the operator’s on the private port', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let partnerUser: Awaited<ReturnType<typeof createUser>>;
  let failedId: string;
  let followUpId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock, env: { RELAY_INTERVAL_MS: '100' } });
    team = await createTeam();
    other = await createTeam();
    partnerUser = await createUser(team.structure.id, 'partner', {
      partnerId: (await createPartner()).id,
    });
    // A follow-up whose due notification fails for good, through a worker whose processor
    // refuses it as the real one refuses what can never succeed.
    const failing = await startDeadlineWorker(ctx.deps, {
      registry: {
        ...processors,
        [FOLLOW_UP_DUE]: async () => {
          throw new UnrecoverableError('the mail relay refused the recipient');
        },
      },
    });
    const agent = await loginAs(ctx.app, team.worker.email);
    const person = await agent
      .post('/api/persons')
      .send({ alias: 'Femme ~40 ans', source: 'outreach' });
    const res = await agent
      .post(`/api/persons/${person.body.id}/follow-ups`)
      .send({ dueAt: NOW.toISOString(), title: 'Rappeler' });
    followUpId = res.body.id;
    const row = await waitFor(
      () =>
        testKnex()('deadlines')
          .where({ subject_id: followUpId, kind: FOLLOW_UP_DUE, status: 'failed' })
          .first(),
      'the deadline to fail',
    );
    failedId = row.id;
    await failing.close();
    const job = await ctx.deps.queue.getJob(deadlineJobId(failedId));
    expect(await job?.getState()).toBe('failed');
  });
  afterAll(async () => ctx.close());

  it('when a non-admin asks for the deadlines, a retry or the page, then 403, and nothing is retried', async () => {
    for (const user of [team.worker, team.manager, team.observer, partnerUser]) {
      const agent = await loginAs(ctx.app, user.email);
      expect((await agent.get('/api/deadlines')).status).toBe(403);
      expect((await agent.post(`/api/deadlines/${failedId}/retry`)).status).toBe(403);
      expect((await agent.get('/admin/echeances')).status).toBe(403);
    }
    expect((await request(ctx.app).get('/api/deadlines')).status).toBe(401);
    expect(await testKnex()('deadlines').where({ id: failedId }).first()).toMatchObject({
      status: 'failed',
    });
  });

  it('when an admin of another structure lists or retries it, then it is not there: 404 on retry', async () => {
    const agent = await loginAs(ctx.app, other.admin.email);
    const list = await agent.get('/api/deadlines?view=all');
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).not.toContain(failedId);
    expect((await agent.post(`/api/deadlines/${failedId}/retry`)).status).toBe(404);
  });

  it('when the admin lists the deadlines in difficulty, then the failed one shows its status, attempts and reason; bad filters are 400 naming the field', async () => {
    const agent = await loginAs(ctx.app, team.admin.email);
    const list = await agent.get('/api/deadlines');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0]).toMatchObject({
      id: failedId,
      kind: FOLLOW_UP_DUE,
      status: 'failed',
      attempts: 1,
      lastError: 'UnrecoverableError: the mail relay refused the recipient',
    });
    const bad = await agent.get('/api/deadlines?view=broken');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('view');
    expect((await agent.post('/api/deadlines/not-a-uuid/retry')).status).toBe(400);

    const page = await agent.get('/admin/echeances');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Suivi à échéance');
    expect(page.text).toContain('the mail relay refused the recipient');
    expect(page.text).toContain(`/admin/echeances/${failedId}/relancer`);
    // No person data on the admins' page.
    expect(page.text).not.toContain('Femme ~40 ans');
  });

  it('when an admin of either structure asks the app for the queue dashboard, whose jobs span every structure, then it is not there (404), and the deadlines page no longer links to it', async () => {
    for (const admin of [team.admin, other.admin]) {
      const agent = await loginAs(ctx.app, admin.email);
      for (const path of [OLD_BOARD, QUEUE_DASHBOARD_PATH]) {
        expect((await agent.get(`${path}/`)).status).toBe(404);
        const queues = await agent.get(`${path}/api/queues`);
        expect(queues.status).toBe(404);
        expect(queues.text).not.toContain('the mail relay refused the recipient');
      }
      const page = await agent.get('/admin/echeances');
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(OLD_BOARD);
    }
  });

  it('when the operator opens the queue dashboard on the private port, then it shows the queue without a session, and it is read-only', async () => {
    const operator = request(createPrivateApp(ctx.deps));
    const ui = await operator.get(`${QUEUE_DASHBOARD_PATH}/`);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('<div id="root">');
    const queues = await operator.get(`${QUEUE_DASHBOARD_PATH}/api/queues`);
    expect(queues.status).toBe(200);
    expect(queues.headers['cache-control']).toBe('no-store');
    expect(JSON.stringify(queues.body)).toContain('"deadlines"');
    const retry = await operator.put(`${QUEUE_DASHBOARD_PATH}/api/queues/deadlines/retry/failed`);
    expect(retry.status).toBe(403);
    expect(await (await ctx.deps.queue.getJob(deadlineJobId(failedId)))?.getState()).toBe('failed');
  });

  it('when the admin retries it from the page, then it is pending again and the real worker delivers it; a second retry is refused', async () => {
    const agent = await loginAs(ctx.app, team.admin.email);
    const page = await agent.get('/admin/echeances');
    // A view the page never sends: 400, the bad-request page (it was a 404), nothing retried.
    const odd = await agent
      .post(`/admin/echeances/${failedId}/relancer`)
      .type('form')
      .send({ _csrf: csrfOf(page.text), view: 'tout' });
    expect(odd.status).toBe(400);
    expect(odd.text).toContain('Demande incorrecte');
    expect((await testKnex()('deadlines').where({ id: failedId }).first()).status).toBe('failed');
    const posted = await agent
      .post(`/admin/echeances/${failedId}/relancer`)
      .type('form')
      .send({ _csrf: csrfOf(page.text), view: 'troubled' });
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe('/admin/echeances?view=troubled');
    expect(await testKnex()('deadlines').where({ id: failedId }).first()).toMatchObject({
      status: 'pending',
    });
    expect(
      await testKnex()('audit_events').where({ action: 'deadline.retry', subject_id: failedId }),
    ).toHaveLength(1);

    const worker = await startDeadlineWorker(ctx.deps);
    try {
      await waitFor(
        async () =>
          (await testKnex()('deadlines').where({ id: failedId }).first()).status === 'done',
        'the retried deadline to be done',
      );
    } finally {
      await worker.close();
    }
    const notes = await testKnex()('notifications').where({
      recipient_id: team.worker.id,
      kind: FOLLOW_UP_DUE,
      subject_id: followUpId,
    });
    expect(notes).toHaveLength(1);

    const again = await agent.post(`/api/deadlines/${failedId}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_transition');
  });
});
