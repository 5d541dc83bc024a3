import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { createCircuitBreaker } from '../../../server/lib/circuit-breaker';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { waitFor } from './helpers';
import { freePort } from '../../setup/ports';
import { inYears } from '../../setup/dates';

/** A throw-away redis-server of this test's own, so it can be killed and started again. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(async () => {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 'redis-server to start');
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Security line 33: with Redis down, a write that plans a deadline used to wait its 2 s enqueue
 * bound every time. After one failed enqueue the web leaves new deadlines to the relay (the
 * breaker is open) until Redis is back ('ready' lets the next request probe it).
 */
describe('inline enqueue with Redis down: the circuit breaker', () => {
  let port: number;
  let redis: ChildProcess;
  let ctx: TestContext;
  let worker: Awaited<ReturnType<typeof loginAs>>;
  let personId: string;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    ctx = await createTestContext({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    const team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    personId = (await worker.post('/api/persons').send({ alias: 'Banc', source: 'outreach' })).body
      .id;
  });
  afterAll(async () => {
    await ctx.close();
    await stopRedis(redis);
  });

  const plan = async (title: string) => {
    const res = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ title, dueAt: inYears(4, '01-07T09:00:00+01:00') });
    expect(res.status).toBe(201);
    return testKnex()('deadlines')
      .where({ subject_type: 'follow_up', subject_id: res.body.id, status: 'pending' })
      .first();
  };

  it('when Redis goes down, then the first write tries once and opens the breaker, the next ones leave their rows to the relay without trying, and Redis back lets the next write enqueue again', async () => {
    const addBulk = jest.spyOn(ctx.deps.queue, 'addBulk');
    const up = await plan('Avec Redis');
    expect(up.enqueued_at).not.toBeNull();
    expect(ctx.deps.enqueueBreaker.state()).toBe('closed');
    expect(addBulk).toHaveBeenCalledTimes(1);

    await stopRedis(redis);
    await waitFor(async () => ctx.deps.redis.status !== 'ready', 'the client to see Redis gone');
    const first = await plan('Redis tombé');
    expect(first.enqueued_at).toBeNull();
    expect(addBulk).toHaveBeenCalledTimes(2);
    expect(ctx.deps.enqueueBreaker.state()).toBe('open');

    const second = await plan('Redis toujours tombé');
    const third = await plan('Encore');
    // No inline attempt: the rows wait for the relay.
    expect(addBulk).toHaveBeenCalledTimes(2);
    expect([second.enqueued_at, third.enqueued_at]).toEqual([null, null]);
    expect(ctx.deps.enqueueBreaker.state()).toBe('open');
    // A write that cancels deadlines (completing the first follow-up) does not try Redis either.
    const remove = jest.spyOn(ctx.deps.queue, 'remove');
    const done = await worker.patch(`/api/follow-ups/${up.subject_id}`).send({ status: 'done' });
    expect(done.status).toBe(200);
    // Its deadline was cancelled (so, breaker closed, its job would be removed from Redis now).
    expect((await testKnex()('deadlines').where({ id: up.id }).first()).status).toBe('cancelled');
    expect(remove).not.toHaveBeenCalled();
    remove.mockRestore();

    redis = await startRedis(port);
    await waitFor(
      async () => ctx.deps.enqueueBreaker.state() === 'half_open',
      'the breaker to half-open when Redis is ready',
    );
    const back = await plan('Redis revenu');
    expect(back.enqueued_at).not.toBeNull();
    expect(ctx.deps.enqueueBreaker.state()).toBe('closed');
    // The relay enqueues what was left behind.
    await ctx.deps.relay.relayPending();
    const left = await testKnex()('deadlines').whereIn('id', [first.id, second.id, third.id]);
    expect(left.map((d) => d.enqueued_at).filter((at) => at === null)).toEqual([]);
    addBulk.mockRestore();
  });
});

describe('the circuit breaker alone (fixed clock)', () => {
  it('opens on a failure, half-opens after the interval for one probe, and closes on its success', () => {
    const clock = fixedClock('2026-12-05T22:00:00Z');
    const b = createCircuitBreaker({ clock, retryAfterMs: 10_000 });
    expect(b.allows()).toBe(true);
    b.failed();
    expect([b.state(), b.allows()]).toEqual(['open', false]);
    clock.advance(9_999);
    expect(b.allows()).toBe(false);
    clock.advance(1);
    expect(b.state()).toBe('half_open');
    // One probe at a time.
    expect([b.allows(), b.allows()]).toEqual([true, false]);
    b.failed();
    expect(b.state()).toBe('open');
    b.probe();
    expect(b.allows()).toBe(true);
    b.succeeded();
    expect([b.state(), b.allows(), b.allows()]).toEqual(['closed', true, true]);
  });
});
