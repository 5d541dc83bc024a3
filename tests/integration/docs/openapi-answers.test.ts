import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import express, { type Express } from 'express';
import request from 'supertest';
import { shiftedClock } from '../../../server/lib/clock';
import { totpCode } from '../../../server/features/two-factor/totp';
import { passwordTokenFor } from '../../../server/features/users/password-links';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict } from '../../setup/factories';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

/** One answer of the API as the client saw it. */
interface Answer {
  method: string;
  path: string;
  status: number;
  body: unknown;
  contentType: string;
}

interface Doc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
  >;
}

/**
 * Every answer of the API, recorded on its way out: the test then checks each against the
 * document, whichever helper made the request.
 */
function recording(app: Express, answers: Answer[]): Express {
  const outer = express();
  outer.use((req, res, next) => {
    const json = res.json.bind(res);
    let body: unknown;
    res.json = (b: unknown) => {
      body = b;
      return json(b);
    };
    res.on('finish', () => {
      if (req.originalUrl.startsWith('/api/'))
        answers.push({
          method: req.method.toLowerCase(),
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          body,
          contentType: String(res.getHeader('content-type') ?? ''),
        });
    });
    next();
  });
  outer.use(app);
  return outer;
}

/** The documented operation an answered path belongs to: literal segments win over parameters. */
function operationOf(doc: Doc, method: string, path: string): string | null {
  const candidates = Object.keys(doc.paths)
    .filter((p) => doc.paths[p][method])
    .filter((p) => new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`).test(decodeURIComponent(path)))
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return candidates[0] ?? null;
}

// A Tuesday morning in Paris, time flowing: the test passes on a Saturday night too.
const NOW = '2026-12-08T09:00:00+01:00';

describe('every endpoint answers what the OpenAPI document says', () => {
  let ctx: TestContext;
  let doc: Doc;
  const answers: Answer[] = [];
  let app: Express;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: shiftedClock(NOW) });
    app = recording(ctx.app, answers);
    doc = (await request(app).get('/api/docs')).body;
  });
  afterAll(async () => ctx.close());

  it('when each endpoint is called as a client would, then each answer matches the schema of its status, and every endpoint answered a success', async () => {
    const w = await referralWorld(app);
    const { worker, manager, admin, partner } = w.agents;
    const ok = async (res: PromiseLike<request.Response>, status = 200) => {
      const r = await res;
      if (r.status !== status) throw new Error(`${r.status} ${JSON.stringify(r.body)} (${status})`);
      return r.body;
    };

    // Session and the caller.
    await ok(worker.get('/api/me'));
    await ok(worker.get('/api/me/preferences'));
    await ok(worker.patch('/api/me/preferences').send({ emailNotifications: false }));
    const spare = await loginAs(app, w.team.worker2.email);
    await ok(spare.delete('/api/session'), 204);
    await ok(spare.get('/api/me'), 401);
    await ok(
      request(app).post('/api/session').send({ email: 'x@example.fr', password: 'no' }),
      401,
    );

    // Persons.
    const district = await createDistrict(w.team.structure.id);
    await ok(worker.get('/api/districts'));
    const person = await ok(
      worker.post('/api/persons').send({
        firstName: 'Nadia',
        lastName: 'Benali',
        email: 'a~b@example.fr',
        districtId: district.id,
        source: 'outreach',
      }),
      201,
    );
    const twin = await createPerson(worker, { firstName: 'Nadia', phone: '06 00 00 00 01' });
    await ok(worker.get('/api/persons').query({ q: 'nadia' }));
    await ok(worker.get('/api/persons/duplicates').query({ firstName: 'Nadia' }));
    await ok(worker.get(`/api/persons/${person.id}`));
    const edited = await ok(
      worker.patch(`/api/persons/${person.id}`).send({ alias: 'Nad', version: person.version }),
    );
    await ok(worker.patch(`/api/persons/${person.id}`).send({ version: person.version }), 409);
    await ok(worker.post('/api/persons').send({ source: 'outreach' }), 400);

    // Contacts, follow-ups, notifications.
    await ok(
      worker.post(`/api/persons/${person.id}/contacts`).send({
        occurredAt: '2026-12-07T10:00:00+01:00',
        channel: 'street',
        outcome: 'reached',
        privateNote: 'Pour moi',
        nextFollowUpAt: '2026-12-10T10:00:00+01:00',
      }),
      201,
    );
    await ok(worker.get(`/api/persons/${person.id}/contacts`));
    const followUp = await ok(
      worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ dueAt: '2026-12-09T10:00:00+01:00', title: 'Rappeler' }),
      201,
    );
    await ok(worker.get('/api/follow-ups').query({ assignee: 'me' }));
    await ok(
      manager
        .post('/api/follow-ups/reassign')
        .send({ toAssigneeId: w.team.worker2.id, ids: [followUp.id] }),
    );
    const moved = await ok(manager.get('/api/follow-ups').query({ personId: person.id }));
    const mine = moved.items.find((f: { id: string }) => f.id === followUp.id);
    await ok(
      manager
        .patch(`/api/follow-ups/${followUp.id}`)
        .send({ status: 'done', version: mine.version }),
    );
    const worker2 = await loginAs(app, w.team.worker2.email);
    const notes = await ok(worker2.get('/api/notifications'));
    await ok(worker2.post(`/api/notifications/${notes.items[0].id}/read`));
    await ok(
      worker2.post('/api/notifications/read-all').send({ before: new Date().toISOString() }),
    );
    await ok(worker2.post('/api/notifications/read-all'));

    // Rights.
    await ok(worker.get('/api/rights'));
    const right = await ok(
      admin.post('/api/rights').send({ code: 'aide_locale', label: 'Aide' }),
      201,
    );
    await ok(
      admin
        .patch(`/api/rights/${right.code}`)
        .send({ label: 'Aide locale', version: right.version }),
    );
    await ok(
      worker
        .put(`/api/persons/${person.id}/rights/rsa`)
        .send({ status: 'not_claimed', reason: 'non_knowledge' }),
    );
    await ok(worker.get(`/api/persons/${person.id}/rights`));

    // Partners, consents, referrals.
    await ok(worker.get('/api/partners'));
    await ok(worker.get(`/api/partners/${w.food.partner.id}`));
    const created = await ok(
      admin.post('/api/partners').send({
        name: 'Épicerie solidaire',
        email: 'accueil~epicerie@example.fr',
        services: [{ name: 'Épicerie', themes: ['equipement-et-alimentation--alimentation'] }],
      }),
      201,
    );
    await ok(
      admin.put(`/api/partners/${created.id}`).send({ name: 'Épicerie', email: 'e@example.fr' }),
    );
    await ok(
      admin
        .put(`/api/partners/${created.id}`)
        .send({ name: 'Épicerie', email: 'e@example.fr', version: created.version }),
      409,
    );
    const added = await ok(
      admin
        .post(`/api/partners/${created.id}/services`)
        .send({ name: 'Vestiaire', themes: ['equipement-et-alimentation'] }),
      201,
    );
    const service = added.services.find((s: { name: string }) => s.name === 'Vestiaire');
    await ok(
      admin
        .put(`/api/partners/${created.id}/services/${service.id}`)
        .send({ name: 'Vestiaire', themes: ['mobilite'] }),
    );
    await ok(admin.post(`/api/partners/${created.id}/review`));
    await ok(admin.delete(`/api/partners/${created.id}/pending-email`));
    const consent = await giveConsent(worker, person.id, w.food.partner.id);
    await ok(worker.get(`/api/persons/${person.id}/consents`));
    const referral = await ok(refer(worker, person.id, w.food.partner.id), 201);
    await ok(worker.get('/api/referrals'));
    await ok(partner.get(`/api/referrals/${referral.id}`));
    await ok(partner.post(`/api/referrals/${referral.id}/transitions`).send({ to: 'accepted' }));
    await ok(worker.post(`/api/referrals/${referral.id}/resend-link`), 202);
    await ok(worker.post(`/api/consents/${consent.id}/revoke`));
    await ok(worker.post(`/api/referrals/${referral.id}/resend-link`), 422);
    await ok(refer(worker, person.id, w.food.partner.id), 422);
    await ok(worker.get(`/api/persons/${person.id}/timeline`));
    await ok(manager.get(`/api/persons/${person.id}/export`));
    const byPost = await ok(
      worker.post('/api/persons').send({
        lastName: 'Courrier',
        address: '12 rue des Lilas, 37000 Tours',
        source: 'self',
      }),
      201,
    );
    await ok(
      worker
        .post(`/api/persons/${byPost.id}/letters`)
        .send({ kind: 'call', phone: '02 47 00 00 00' }),
      201,
    );
    await ok(
      worker
        .post(`/api/persons/${person.id}/letters`)
        .send({ kind: 'call', phone: '02 47 00 00 00' }),
      422,
    );
    await ok(manager.get('/api/audit').query({ personId: person.id }));

    // Manager: backlog, observation and merge.
    await ok(manager.get('/api/backlog'));
    await ok(manager.get('/api/observation').query({ by: 'district' }));
    await ok(manager.get('/api/observation.csv'));
    await ok(
      manager
        .get('/api/backlog/items')
        .query({ key: w.team.worker2.id, bucket: 'week', groupBy: 'assignee' }),
    );
    await ok(
      manager.post(`/api/persons/${twin.id}/merge`).send({
        intoId: person.id,
        version: (twin as { version?: number }).version ?? 1,
        intoVersion: edited.version,
      }),
    );

    // Admin: teams, users, settings, deadlines.
    const team = await ok(admin.post('/api/teams').send({ name: 'Équipe mobile' }), 201);
    await ok(admin.get('/api/teams'));
    await ok(admin.get(`/api/teams/${team.id}`));
    await ok(admin.patch(`/api/teams/${team.id}`).send({ memberIds: [w.team.worker.id] }));
    const quartier = await ok(
      admin.post('/api/districts').send({ name: 'Justices', code: '490070102', qpv: true }),
      201,
    );
    await ok(admin.post('/api/districts').send({ name: 'Justices' }), 409);
    await ok(
      admin
        .patch(`/api/districts/${quartier.id}`)
        .send({ archived: true, version: quartier.version }),
    );
    await ok(admin.get('/api/districts').query({ archived: 'true' }));
    const invited = await ok(
      admin.post('/api/users').send({ email: 'o~brien@example.fr', name: 'Léa', role: 'worker' }),
      201,
    );
    await ok(admin.get('/api/users'));
    await ok(admin.get(`/api/users/${invited.id}`));
    await ok(admin.patch(`/api/users/${invited.id}`).send({ name: 'Léa Martin' }));
    await ok(
      admin.patch(`/api/users/${invited.id}`).send({ name: 'Léa', version: invited.version }),
      409,
    );
    await ok(admin.post(`/api/users/${invited.id}/password-link`), 202);
    await ok(request(app).post('/api/password-reset').send({ email: 'o~brien@example.fr' }), 202);
    const link = await testKnex()('password_links')
      .where({ user_id: invited.id })
      .whereNull('revoked_at')
      .orderBy('created_at', 'desc')
      .first('id');
    await ok(
      request(app)
        .post('/api/password-links/use')
        .send({
          token: passwordTokenFor(ctx.config.LINK_SECRET, link.id),
          password: DEFAULT_PASSWORD,
        }),
    );
    const settings = await ok(admin.get('/api/settings'));
    const changed = await ok(
      admin.patch('/api/settings').send({ digestTime: '08:45', version: settings.version }),
    );
    // A shorter retention that would anonymise an idle file, unconfirmed.
    await testKnex()('persons').insert({
      structure_id: w.team.structure.id,
      alias: 'Homme ~70 ans, square',
      source: 'outreach',
      last_activity_at: new Date(ctx.deps.clock.now().getTime() - 300 * 86_400_000),
    });
    await ok(
      admin.patch('/api/settings').send({ retentionMonths: 6, version: changed.version }),
      422,
    );
    const [deadline] = await testKnex()('deadlines')
      .where({ structure_id: w.team.structure.id, status: 'pending' })
      .update({ status: 'failed', attempts: 3, last_error: 'test' })
      .returning('id');
    await ok(admin.get('/api/deadlines'));
    await ok(admin.post(`/api/deadlines/${deadline.id}/retry`));

    // Reports: the public form, a partner's report, the triage queue.
    await ok(
      request(app)
        .post(`/api/public/${w.team.structure.slug}/reports`)
        .send({ location: 'Parvis de la médiathèque', concern: 'Dort dehors depuis une semaine' }),
      202,
    );
    await ok(
      partner.post('/api/reports').send({ location: 'Quai Ligny', concern: 'Isolement' }),
      201,
    );
    await ok(partner.get('/api/reports/sent'));
    const queue = await ok(worker.get('/api/reports').query({ status: 'pending' }));
    await ok(worker.get(`/api/reports/${queue.items[0].id}`));
    await ok(
      worker
        .post(`/api/reports/${queue.items[0].id}/triage`)
        .send({ action: 'dismiss', reason: 'Déjà suivi' }),
    );
    // A report linked to a file is on its timeline, as the document describes it.
    await ok(
      worker
        .post(`/api/reports/${queue.items[1].id}/triage`)
        .send({ action: 'link', personId: person.id }),
    );
    const timeline = await ok(worker.get(`/api/persons/${person.id}/timeline`));
    expect(timeline.items.map((i: { type: string }) => i.type)).toContain('report');

    // API tokens: made, used as Bearer on a referral route, revoked.
    const token = await ok(
      partner.post('/api/tokens').send({ name: 'Logiciel de la banque' }),
      201,
    );
    await ok(partner.get('/api/tokens'));
    await ok(request(app).get('/api/referrals').set('Authorization', `Bearer ${token.token}`));
    await ok(partner.delete(`/api/tokens/${token.id}`), 204);

    // Two-factor: enrolled, recovery codes renewed with the next code, turned off with one of
    // them, then reset by an admin.
    await ok(worker2.get('/api/me/two-factor'));
    const enrol = await ok(worker2.post('/api/me/two-factor'), 201);
    const at = ctx.deps.clock.now();
    await ok(worker2.post('/api/me/two-factor/confirm').send({ code: totpCode(enrol.secret, at) }));
    const renewed = await ok(
      worker2
        .post('/api/me/two-factor/recovery-codes')
        .send({ code: totpCode(enrol.secret, new Date(at.getTime() + 30_000)) }),
    );
    await ok(
      worker2.post('/api/me/two-factor/disable').send({ code: renewed.recoveryCodes[0] }),
      204,
    );
    await ok(admin.post(`/api/users/${w.team.worker2.id}/two-factor/reset`));

    // Errors every endpoint may answer: a body over the limit, a cross-site write, a bad id.
    await ok(
      worker.post('/api/persons').send({ alias: 'x'.repeat(101 * 1024), source: 'self' }),
      413,
    );
    await ok(worker.post('/api/persons').set('Sec-Fetch-Site', 'cross-site').send({}), 403);
    await ok(worker.get('/api/persons/not-a-uuid'), 400);
    await ok(w.agents.observer.get('/api/persons'), 403);
    await ok(worker.get('/api/persons/00000000-0000-4000-8000-000000000000'), 404);

    // Every answer, success or error, against the schema of its status.
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ ...doc, $id: 'api' });
    const compiled = new Map<string, ValidateFunction>();
    const problems: string[] = [];
    const succeeded = new Set<string>();
    for (const a of answers) {
      if (a.path === '/api/docs') continue;
      const path = operationOf(doc, a.method, a.path);
      if (!path) {
        problems.push(`${a.method.toUpperCase()} ${a.path}: not in the document`);
        continue;
      }
      const where = `${a.method.toUpperCase()} ${path} ${a.status}`;
      const declared = doc.paths[path][a.method].responses[String(a.status)];
      if (!declared) {
        problems.push(`${where}: status not documented`);
        continue;
      }
      if (a.status < 300) succeeded.add(`${a.method} ${path}`);
      if (a.status === 204) {
        if (a.body !== undefined) problems.push(`${where}: a body with 204`);
        continue;
      }
      // A file (CSV): its media type is checked; its text is the feature's own tests' business.
      const media = Object.keys(declared.content ?? {})[0];
      if (media !== 'application/json') {
        if (!a.contentType.startsWith(media)) problems.push(`${where}: not ${media}`);
        continue;
      }
      const pointer = `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${a.method}/responses/${a.status}/content/application~1json/schema`;
      let v = compiled.get(pointer);
      if (!v) {
        v = ajv.compile({ $ref: `api#${pointer}` });
        compiled.set(pointer, v);
      }
      if (!v(JSON.parse(JSON.stringify(a.body ?? null))))
        problems.push(
          `${where}: ${ajv.errorsText(v.errors)} in ${JSON.stringify(a.body).slice(0, 500)}`,
        );
    }
    expect(problems).toEqual([]);

    // Each documented operation was seen succeeding here: a new endpoint is added to this test.
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p}`),
    );
    expect(documented.filter((o) => !succeeded.has(o))).toEqual([]);
  });
});
