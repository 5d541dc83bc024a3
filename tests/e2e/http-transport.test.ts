import request from 'supertest';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import { csrfOf } from './html';

const PRODUCTION = {
  NODE_ENV: 'production',
  ENCRYPTION_KEY: 'c3'.repeat(32),
  SESSION_SECRET: 'a production secret of more than thirty-two characters',
  LINK_SECRET: 'another production secret of more than thirty-two chars',
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
