import net from 'node:net';
import request from 'supertest';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { createPerson, sessionCookie } from './helpers';

/** A request that hangs fails the test after this instead of waiting for the pool's 10 s. */
const NO_HANG_MS = 5000;

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
});
