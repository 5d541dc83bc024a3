import request from 'supertest';
import { LINK_PATH_PREFIX } from '../../server/features/referrals/referral-link-tokens';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf } from './html';

const PRODUCTION = {
  NODE_ENV: 'production',
  ENCRYPTION_KEY: 'c3'.repeat(32),
  SESSION_SECRET: 'a production secret of more than thirty-two characters',
  LINK_SECRET: 'another production secret of more than thirty-two chars',
  SMTP_URL: 'smtp://127.0.0.1:2525',
  MAIL_FROM: 'CCAS <no-reply@ccas.example>',
};

function sessionCookie(res: request.Response): string | undefined {
  const raw = ([] as string[]).concat((res.headers['set-cookie'] as unknown as string[]) ?? []);
  return raw.find((c) => c.startsWith('av.sid='));
}

/** Production over plain HTTP needs the opt-in the docker compose stack sets for localhost. */
const INSECURE = { ALLOW_INSECURE_HTTP: 'true' };

/**
 * Transport follows PUBLIC_URL: production requires an https one unless ALLOW_INSECURE_HTTP is
 * set (the docker compose stack on localhost); a real deployment runs over HTTPS (often behind a
 * TLS proxy).
 */
describe('production over plain HTTP and over HTTPS', () => {
  let team: Awaited<ReturnType<typeof createTeam>>;
  const contexts: TestContext[] = [];

  beforeAll(async () => {
    team = await createTeam();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  async function app(env: Record<string, string>) {
    const ctx = await createTestContext({ env: { ...PRODUCTION, ...env } });
    contexts.push(ctx);
    return ctx.app;
  }

  it('when production runs at an http PUBLIC_URL with ALLOW_INSECURE_HTTP, then the login form works and the cookie is not Secure', async () => {
    const agent = request.agent(await app({ PUBLIC_URL: 'http://localhost:3000', ...INSECURE }));
    const form = await agent.get('/connexion');
    expect(form.status).toBe(200);
    const res = await agent
      .post('/connexion')
      .type('form')
      .send({ _csrf: csrfOf(form.text), email: team.worker.email, password: DEFAULT_PASSWORD });
    expect(res.status).toBe(303);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<h1>Mes actions</h1>');
  });

  it('when production runs at an https PUBLIC_URL behind a trusted proxy, then the cookie is Secure', async () => {
    const https = await app({ PUBLIC_URL: 'https://aller-vers.example' });
    const form = await request(https).get('/connexion').set('X-Forwarded-Proto', 'https');
    const first = sessionCookie(form);
    expect(first).toMatch(/;\s*Secure/i);
    // A cookie jar keeps a Secure cookie off plain HTTP: the browser behind the proxy sends it.
    const res = await request(https)
      .post('/connexion')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', first!.split(';')[0])
      .type('form')
      .send({ _csrf: csrfOf(form.text), email: team.worker.email, password: DEFAULT_PASSWORD });
    expect(res.status).toBe(303);
    expect(sessionCookie(res)).toMatch(/;\s*Secure/i);
  });

  it('when ALLOW_INSECURE_HTTP is set but PUBLIC_URL is https, then the cookie is still Secure (the opt-in weakens nothing over HTTPS)', async () => {
    const https = await app({ PUBLIC_URL: 'https://aller-vers.example', ...INSECURE });
    const form = await request(https).get('/connexion').set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(form)).toMatch(/;\s*Secure/i);
  });

  it('when the proxy is not trusted (TRUST_PROXY=false), then its X-Forwarded-Proto is ignored and no Secure cookie goes over plain HTTP', async () => {
    const res = await request(
      await app({ PUBLIC_URL: 'https://aller-vers.example', TRUST_PROXY: 'false' }),
    )
      .post('/api/session')
      .set('X-Forwarded-Proto', 'https')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
    expect(res.status).toBe(200);
    expect(sessionCookie(res)).toBeUndefined();
  });
});

describe('HTTPS-only headers', () => {
  const contexts: TestContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  async function headersAt(publicUrl: string, extra: Record<string, string> = {}) {
    const ctx = await createTestContext({
      env: { ...PRODUCTION, PUBLIC_URL: publicUrl, ...extra },
    });
    contexts.push(ctx);
    const res = await request(ctx.app).get('/connexion');
    expect(res.status).toBe(200);
    return res.headers;
  }

  it('when production runs at an http PUBLIC_URL with ALLOW_INSECURE_HTTP, then neither HSTS nor upgrade-insecure-requests is sent (the rest of the CSP stays)', async () => {
    const h = await headersAt('http://localhost:3000', INSECURE);
    expect(h['strict-transport-security']).toBeUndefined();
    expect(h['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(h['content-security-policy']).toContain("script-src 'self'");
  });

  it('when PUBLIC_URL is https, then HSTS and upgrade-insecure-requests are sent', async () => {
    const h = await headersAt('https://aller-vers.example');
    expect(h['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(h['content-security-policy']).toContain('upgrade-insecure-requests');
  });

  it('when ALLOW_INSECURE_HTTP is set but PUBLIC_URL is https, then HSTS is still sent', async () => {
    const h = await headersAt('https://aller-vers.example', INSECURE);
    expect(h['strict-transport-security']).toMatch(/max-age=\d+/);
  });
});

/**
 * Behind one proxy (TRUST_PROXY=1) the client's address is the entry that proxy appends to
 * X-Forwarded-For, the right-most; whatever the client put before it counts for nothing.
 */
describe('client addresses behind a proxy (TRUST_PROXY as a hop count)', () => {
  const contexts: TestContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  async function behindOneProxy() {
    const ctx = await createTestContext({ env: { TRUST_PROXY: '1' } });
    contexts.push(ctx);
    return ctx.app;
  }
  // What the proxy saw the client come from, and a left-most entry the client makes up.
  const PROXIED = '203.0.113.7';
  const forwarded = (i: number) => `198.51.100.${i % 250}, ${PROXIED}`;

  it('when a client makes up a new left-most X-Forwarded-For on each signed-link request, then it still reaches the limit of the address the proxy saw, audited under that address', async () => {
    const app = await behindOneProxy();
    const bogus = `${LINK_PATH_PREFIX}${'C'.repeat(43)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1)
      statuses.push((await request(app).get(bogus).set('X-Forwarded-For', forwarded(i))).status);
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
    expect(statuses[30]).toBe(429);
    // Another address behind the same proxy has its own bucket.
    const other = await request(app).get(bogus).set('X-Forwarded-For', '203.0.113.8');
    expect(other.status).toBe(404);

    // The flood is audited once, under the proxy's entry (this file's tables start empty).
    const refused = await testKnex()('audit_events')
      .where({ action: 'referral_link.refused' })
      .whereRaw("details->>'reason' = 'rate_limited'")
      .pluck('ip');
    expect(refused).toEqual([PROXIED]);
  });

  it('when a login fails with a made-up left-most X-Forwarded-For, then it is audited under the address the proxy saw, the one the login throttle counts', async () => {
    const app = await behindOneProxy();
    const team = await createTeam();
    const res = await request(app)
      .post('/api/session')
      .set('X-Forwarded-For', forwarded(1))
      .send({ email: team.worker.email, password: 'not the right password at all' });
    expect(res.status).toBe(401);
    const [row] = await testKnex()('audit_events')
      .where({ action: 'login_failed', subject_id: team.worker.id })
      .select('ip');
    expect(String(row.ip)).toBe(PROXIED);
  });
});
