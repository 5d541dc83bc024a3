import net from 'node:net';
import request from 'supertest';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { testKnex } from '../../setup/db';
import { TEST_DATABASE_URL } from '../../setup/env';
import { createTeam } from '../../setup/factories';
import { createPerson, sessionCookie } from './helpers';

/** A request that hangs fails the test after this instead of waiting for the pool's 10 s. */
const NO_HANG_MS = 5000;

/**
 * A TCP proxy in front of the real PostgreSQL that the test can cut and restore: cut destroys
 * every connection through it and refuses new ones (they are closed as soon as accepted), as a
 * database server that went away; restore lets connections through again.
 */
async function startProxy(target: { host: string; port: number }) {
  let open = true;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('PostgreSQL unavailable', () => {
  let up: TestContext;
  let cookie: string;
  let personId: string;
  beforeAll(async () => {
    up = await createTestContext();
    const team = await createTeam();
    const login = await request(up.app)
      .post('/api/session')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
    // The same session, presented to an app whose database cannot be reached.
    cookie = sessionCookie(login);
    personId = (await createPerson(await loginAs(up.app, team.worker.email))).id;
  });
  afterAll(async () => up.close());

  describe('when nothing listens on the database port', () => {
    let down: TestContext;
    beforeAll(async () => {
      down = await createTestContext({
        env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/aller_vers' },
      });
    });
    afterAll(async () => down.close());

    it('then /readyz is 503 with postgres down and Redis still up', async () => {
      const res = await request(down.app).get('/readyz').timeout(NO_HANG_MS);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'degraded', postgres: 'down', redis: 'up' });
    });

    it('then reading a person is a 503 dependency error in JSON, not a 500', async () => {
      const res = await request(down.app)
        .get(`/api/persons/${personId}`)
        .set('Cookie', cookie)
        .timeout(NO_HANG_MS);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'dependency_unavailable' });
      expect(res.body.error.requestId).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toContain('ECONNREFUSED');
    });
  });

  describe('when the database server accepts connections but never answers', () => {
    let silent: net.Server;
    const sockets = new Set<net.Socket>();
    let down: TestContext;
    beforeAll(async () => {
      silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as net.AddressInfo;
      down = await createTestContext({
        env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/aller_vers` },
      });
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      silent.close();
      await down.close();
    });

    it('then /readyz still answers 503 with postgres down, bounded instead of waiting for the pool', async () => {
      const res = await request(down.app).get('/readyz').timeout(NO_HANG_MS);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ postgres: 'down', redis: 'up' });
    });
  });

  describe('when PostgreSQL goes away under a running app, then comes back', () => {
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let app: TestContext;
    beforeAll(async () => {
      const real = new URL(TEST_DATABASE_URL);
      proxy = await startProxy({ host: real.hostname, port: Number(real.port || 5432) });
      const through = new URL(TEST_DATABASE_URL);
      through.port = String(proxy.port);
      app = await createTestContext({ env: { DATABASE_URL: through.toString() } });
    });
    afterAll(async () => {
      await app.close();
      await proxy.close();
    });

    it('then requests answer 503 dependency_unavailable without waiting for the pool, /readyz says postgres down, and the same session is served again without a restart', async () => {
      const team = await createTeam();
      const agent = await loginAs(app.app, team.worker.email);
      const person = await createPerson(agent);
      await agent.get(`/api/persons/${person.id}`).expect(200);
      expect((await request(app.app).get('/readyz')).body).toMatchObject({ postgres: 'up' });

      // A request in flight when the connections drop: its UPDATE waits on a row locked elsewhere.
      const locker = await testKnex().transaction();
      let inFlight;
      try {
        await locker('persons').where({ id: person.id }).forUpdate().first();
        const pending = agent
          .patch(`/api/persons/${person.id}`)
          .send({ version: person.version, alias: 'Jamais écrit' })
          .timeout(NO_HANG_MS)
          .then((r) => r);
        // The update reaches PostgreSQL and waits on the lock.
        for (let i = 0; i < 100; i++) {
          const waiting = await testKnex().raw(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'update \"persons\"%'",
          );
          if (Number(waiting.rows[0].n) > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        proxy.cut();
        inFlight = await pending;
      } finally {
        await locker.rollback();
      }
      expect(inFlight.status).toBe(503);
      expect(inFlight.body.error).toMatchObject({ code: 'dependency_unavailable' });

      // While it is down: reads and writes, several at once, each settles as a 503 well before
      // the pool's 10 s acquire timeout; the session is not lost.
      const down = await Promise.all([
        agent.get(`/api/persons/${person.id}`).timeout(NO_HANG_MS),
        agent.get('/api/persons').timeout(NO_HANG_MS),
        agent
          .post(`/api/persons/${person.id}/contacts`)
          .send({ occurredAt: '2026-11-02T09:00:00Z', channel: 'phone', outcome: 'not_reached' })
          .timeout(NO_HANG_MS),
        agent
          .patch(`/api/persons/${person.id}`)
          .send({ version: person.version, alias: 'Jamais écrit' })
          .timeout(NO_HANG_MS),
      ]);
      for (const res of down) {
        expect(res.status).toBe(503);
        expect(res.body.error).toMatchObject({ code: 'dependency_unavailable' });
      }
      const ready = await request(app.app).get('/readyz').timeout(NO_HANG_MS);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'degraded', postgres: 'down', redis: 'up' });

      // Back: the same app and the same session, no restart, no new login.
      proxy.restore();
      const again = await agent.get(`/api/persons/${person.id}`).timeout(NO_HANG_MS);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ alias: person.alias, version: person.version });
      await agent
        .post(`/api/persons/${person.id}/contacts`)
        .send({ occurredAt: '2026-11-02T09:00:00Z', channel: 'phone', outcome: 'not_reached' })
        .timeout(NO_HANG_MS)
        .expect(201);
      const readyAgain = await request(app.app).get('/readyz').timeout(NO_HANG_MS);
      expect(readyAgain.status).toBe(200);
      expect(readyAgain.body).toMatchObject({ postgres: 'up', redis: 'up' });
      // Nothing written while it was down.
      expect(await testKnex()('contacts').where({ person_id: person.id })).toHaveLength(1);
    });
  });
});
