import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../../setup/context';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

const run = promisify(execFile);

/**
 * The partner token journey of the README, with curl alone against a listening server: log in,
 * create a token with the session, then list, read and accept a referral with the token.
 */
describe('the partner token journey with curl alone', () => {
  let ctx: TestContext;
  let server: Server;
  let base: string;
  let jarDir: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-11-24T10:00:00+01:00') });
    server = ctx.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jarDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aller-vers-curl-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await ctx.close();
    fs.rmSync(jarDir, { recursive: true, force: true });
  });

  /** What the journey reads back from the JSON answers. */
  interface Answer {
    status: number;
    body: {
      id?: string;
      token?: string;
      status?: string;
      items?: { id: string }[];
      error?: { code: string };
    } | null;
  }

  /** One curl process; answers the status and the parsed JSON body (null when empty). */
  async function curl(args: string[]): Promise<Answer> {
    const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
    const cut = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, cut);
    return { status: Number(stdout.slice(cut + 1)), body: text ? JSON.parse(text) : null };
  }

  it('log in → POST /api/tokens with the cookie → list, read and accept a referral with Bearer → revoke → 401', async () => {
    const w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const referral = (await refer(w.agents.worker, person.id, w.food.partner.id)).body;
    const jar = path.join(jarDir, 'cookies.txt');
    const json = ['-H', 'Content-Type: application/json'];

    const login = await curl([
      '-c',
      jar,
      ...json,
      '-d',
      JSON.stringify({ email: w.users.p1.email, password: DEFAULT_PASSWORD }),
      `${base}/api/session`,
    ]);
    expect(login.status).toBe(200);

    const created = await curl([
      '-b',
      jar,
      ...json,
      '-d',
      '{"name":"Logiciel de la banque"}',
      `${base}/api/tokens`,
    ]);
    expect(created.status).toBe(201);
    const token = created.body?.token ?? '';
    expect(token).toMatch(/^av_/);
    const auth = ['-H', `Authorization: Bearer ${token}`];

    const list = await curl([...auth, `${base}/api/referrals?status=requested`]);
    expect(list.status).toBe(200);
    expect(list.body?.items?.map((r) => r.id)).toEqual([referral.id]);

    const one = await curl([...auth, `${base}/api/referrals/${referral.id}`]);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: referral.id, status: 'requested' });

    const accepted = await curl([
      ...auth,
      ...json,
      '-d',
      '{"to":"accepted"}',
      `${base}/api/referrals/${referral.id}/transitions`,
    ]);
    expect(accepted.status).toBe(200);
    expect(accepted.body?.status).toBe('accepted');

    // The token reaches nothing else.
    expect((await curl([...auth, `${base}/api/me`])).status).toBe(403);

    const revoked = await curl([
      '-b',
      jar,
      '-X',
      'DELETE',
      `${base}/api/tokens/${created.body?.id}`,
    ]);
    expect(revoked.status).toBe(204);
    const after = await curl([...auth, `${base}/api/referrals`]);
    expect(after.status).toBe(401);
    expect(after.body?.error?.code).toBe('invalid_token');
  });
});
