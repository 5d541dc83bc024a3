import request from 'supertest';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { type Agent } from './helpers';

describe('HTTP edges: CSRF, malformed bodies, sizes, ids', () => {
  let ctx: TestContext;
  let worker: Agent;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
  });
  afterAll(async () => ctx.close());

  const person = { alias: 'CSRF', source: 'outreach' };
  const count = async (table: 'persons' | 'sessions' | 'audit_events') =>
    Number((await testKnex()(table).count({ n: '*' }))[0].n);

  it('when a cookie-authenticated POST comes with Origin https://evil.example, then 403 and nothing is created', async () => {
    const before = await count('persons');
    const res = await worker
      .post('/api/persons')
      .set('Origin', 'https://evil.example')
      .send(person);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await count('persons')).toBe(before);
    expect((await worker.get('/api/persons').query({ q: 'CSRF' })).body.total).toBe(0);
  });

  it.each(['cross-site', 'same-site'])(
    'when a cookie-authenticated POST comes with Sec-Fetch-Site: %s, then 403 and nothing is created',
    async (site) => {
      const before = await count('persons');
      const res = await worker.post('/api/persons').set('Sec-Fetch-Site', site).send(person);
      expect(res.status).toBe(403);
      expect(await count('persons')).toBe(before);
    },
  );

  it('when Origin is "null" (sandboxed frame), then 403 and nothing is created', async () => {
    const before = await count('persons');
    const res = await worker.post('/api/persons').set('Origin', 'null').send(person);
    expect(res.status).toBe(403);
    expect(await count('persons')).toBe(before);
  });

  it('when the Origin matches the request’s own Host header but not PUBLIC_URL, then 403 (the Host is the attacker’s to choose)', async () => {
    const before = await count('persons');
    const res = await worker
      .post('/api/persons')
      .set('Host', 'evil.example')
      .set('Origin', 'http://evil.example')
      .send(person);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await count('persons')).toBe(before);
  });

  it('when the POST is same-origin (Origin of PUBLIC_URL, Sec-Fetch-Site same-origin), then 201', async () => {
    const res = await worker
      .post('/api/persons')
      .set('Origin', ctx.config.publicUrl)
      .set('Sec-Fetch-Site', 'same-origin')
      .send(person);
    expect(res.status).toBe(201);
  });

  it('when a cross-site page tries to log in or out, then 403, no session is opened or ended and nothing is audited', async () => {
    const sessions = await count('sessions');
    const audited = await count('audit_events');
    const login = await request(ctx.app)
      .post('/api/session')
      .set('Origin', 'https://evil.example')
      .send({ email: team.worker2.email, password: DEFAULT_PASSWORD });
    expect(login.status).toBe(403);
    expect(login.headers['set-cookie']).toBeUndefined();
    const logout = await worker.delete('/api/session').set('Sec-Fetch-Site', 'cross-site');
    expect(logout.status).toBe(403);
    expect(await count('sessions')).toBe(sessions);
    expect(await count('audit_events')).toBe(audited);
    expect((await worker.get('/api/me')).status).toBe(200);
  });

  it('when a cross-site GET arrives, then it is served (GET changes nothing)', async () => {
    const res = await worker.get('/api/me').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(200);
  });

  it('when the JSON is malformed, then 400 invalid_json', async () => {
    const res = await worker
      .post('/api/persons')
      .set('Content-Type', 'application/json')
      .send('{"alias": "x",');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'invalid_json',
      message: expect.any(String),
    });
  });

  it('when the JSON body is a bare string or number, then 400 invalid_json', async () => {
    for (const raw of ['"alias"', '42', 'null']) {
      const res = await worker
        .post('/api/persons')
        .set('Content-Type', 'application/json')
        .send(raw);
      expect(res.status).toBe(400);
      expect(['invalid_json', 'validation_failed']).toContain(res.body.error.code);
    }
  });

  it('when the body is over 100 kB, then 413', async () => {
    const res = await worker
      .post('/api/persons')
      .send({ alias: 'Gros', source: 'outreach', situation: 'x'.repeat(110 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('when a path id is not a UUID, then 400 naming id', async () => {
    for (const path of [
      '/api/persons/12',
      '/api/persons/12/timeline',
      '/api/persons/12/contacts',
      "/api/persons/1'%20or%201=1/contacts",
    ]) {
      const res = await worker.get(path);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('id');
    }
  });

  it('when a route that declares no query gets one, then 400 naming the parameter', async () => {
    const post = await worker.post('/api/persons').query({ debug: '1' }).send(person);
    expect(post.status).toBe(400);
    expect(post.body.error.details[0].field).toBe('debug');
    const me = await worker.get('/api/me').query({ fields: 'all' });
    expect(me.status).toBe(400);
    expect(me.body.error.details[0].field).toBe('fields');
  });

  it('when a route that declares no body gets fields, then 400 naming them and nothing changes; an empty body is fine', async () => {
    const [n] = await ctx.deps
      .knex('notifications')
      .insert({
        structure_id: team.structure.id,
        recipient_id: team.worker.id,
        kind: 'test',
        subject_type: 'person',
        subject_id: team.worker.id,
        title: 'Un rappel',
        due_moment: new Date(),
      })
      .returning('id');
    const withFields = await worker
      .post(`/api/notifications/${n.id}/read`)
      .send({ readAt: '2026-01-01T00:00:00Z' });
    expect(withFields.status).toBe(400);
    expect(withFields.body.error.details[0]).toEqual({
      field: 'readAt',
      message: 'is not an accepted field',
    });
    expect((await ctx.deps.knex('notifications').where({ id: n.id }).first()).read_at).toBeNull();
    expect((await worker.post(`/api/notifications/${n.id}/read`)).status).toBe(200);
    expect((await worker.post(`/api/notifications/${n.id}/read`).send({})).status).toBe(200);
  });

  it('when the route does not exist, then a JSON 404', async () => {
    const res = await worker.get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('answers API calls and pages with Cache-Control: no-store, and no ETag (nothing is ever revalidated, so no body is hashed for one)', async () => {
    for (const path of ['/api/persons', '/personnes']) {
      const res = await worker.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.etag).toBeUndefined();
    }
  });

  it('when a body is sent as a form instead of JSON, then 400 naming the missing fields (not 500)', async () => {
    const res = await worker.post('/api/persons').type('form').send('alias=x&source=outreach&x=1');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});
