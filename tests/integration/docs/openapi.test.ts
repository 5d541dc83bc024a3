import Ajv2020 from 'ajv/dist/2020';
import request from 'supertest';
import { THEMES } from '../../../server/features/partners/partner-schemas';
import {
  REFERRAL_STATUSES,
  REJECTION_REASONS,
} from '../../../server/features/referrals/referral-state';
import { documentEndpoint, NO_CONTENT } from '../../../server/lib/openapi';
import { createTestContext, type TestContext } from '../../setup/context';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

interface Operation {
  summary?: string;
  requestBody?: { required?: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { content?: { 'application/json': { schema: JsonSchema } } }>;
}
interface JsonSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  description?: string;
  pattern?: string;
  additionalProperties?: boolean;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

describe('OpenAPI document', () => {
  let ctx: TestContext;
  let doc: Doc;
  beforeAll(async () => {
    ctx = await createTestContext();
    const res = await request(ctx.app).get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    doc = res.body;
  });
  afterAll(async () => ctx.close());

  const op = (path: string, method: string) => {
    const o = doc.paths[path]?.[method];
    if (!o) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    return o;
  };
  const bodyOf = (path: string, method: string) =>
    op(path, method).requestBody!.content['application/json'].schema;
  const responseOf = (path: string, method: string, status: string) =>
    op(path, method).responses[status].content?.['application/json'].schema;
  const component = (ref: string | undefined) =>
    doc.components.schemas[(ref ?? '').replace('#/components/schemas/', '')];

  it('is served at /api/docs and lists every endpoint of the contract with its body schema', async () => {
    for (const [path, method] of [
      ['/api/session', 'post'],
      ['/api/session', 'delete'],
      ['/api/me', 'get'],
      ['/api/persons', 'get'],
      ['/api/persons', 'post'],
      ['/api/persons/{id}', 'get'],
      ['/api/persons/{id}', 'patch'],
      ['/api/persons/{id}/timeline', 'get'],
      ['/api/persons/{id}/contacts', 'post'],
      ['/api/persons/{id}/follow-ups', 'post'],
      ['/api/follow-ups', 'get'],
      ['/api/follow-ups/{id}', 'patch'],
      ['/api/notifications', 'get'],
      ['/api/notifications/{id}/read', 'post'],
    ]) {
      expect(doc.paths[path]?.[method]).toBeDefined();
    }
    expect(Object.keys(bodyOf('/api/persons', 'post').properties!)).toEqual(
      expect.arrayContaining(['alias', 'firstName', 'source', 'situation', 'referentId']),
    );
  });

  const REFERRAL_CONTRACT = [
    ['/api/partners', 'get', '200'],
    ['/api/partners', 'post', '201'],
    ['/api/partners/{id}', 'get', '200'],
    ['/api/partners/{id}', 'put', '200'],
    ['/api/partners/{id}/services', 'post', '201'],
    ['/api/partners/{id}/services/{serviceId}', 'put', '200'],
    ['/api/partners/{id}/review', 'post', '200'],
    ['/api/partners/{id}/pending-email', 'delete', '200'],
    ['/api/persons/{id}/consents', 'get', '200'],
    ['/api/persons/{id}/consents', 'post', '201'],
    ['/api/consents/{id}/revoke', 'post', '200'],
    ['/api/persons/{id}/referrals', 'post', '201'],
    ['/api/referrals', 'get', '200'],
    ['/api/referrals/{id}', 'get', '200'],
    ['/api/referrals/{id}/transitions', 'post', '200'],
  ] as const;

  it.each(REFERRAL_CONTRACT)(
    '%s %s is documented with a summary, its success body (%s) and its error answers',
    (path, method, status) => {
      const o = op(path, method);
      expect(o.summary).toEqual(expect.any(String));
      expect(responseOf(path, method, status)).toBeDefined();
      // The statuses every signed-in endpoint answers; 409 and 422 only where they happen.
      for (const code of ['400', '401', '503']) expect(o.responses[code]).toBeDefined();
      if (path.includes('{')) expect(o.responses['404']).toBeDefined();
    },
  );

  it('documents the observation and its CSV with their query parameters', () => {
    for (const path of ['/api/observation', '/api/observation.csv']) {
      const o = op(path, 'get') as Operation & { parameters?: { name: string }[] };
      expect(o.summary).toEqual(expect.any(String));
      expect((o.parameters ?? []).map((p) => p.name).sort()).toEqual(['by', 'from', 'to']);
    }
    const body = component(responseOf('/api/observation', 'get', '200')!.$ref);
    expect(Object.keys(body.properties!)).toEqual([
      'from',
      'to',
      'by',
      'threshold',
      'totals',
      'rows',
      'partners',
      'computedAt',
    ]);
    // How fresh the numbers are is documented with the answer.
    expect(body.properties!.computedAt).toMatchObject({
      format: 'date-time',
      description: expect.stringMatching(/snapshot.*every hour/),
    });
  });

  const RIGHTS_CONTRACT = [
    ['/api/rights', 'get', '200'],
    ['/api/rights', 'post', '201'],
    ['/api/rights/{code}', 'patch', '200'],
    ['/api/persons/{id}/rights', 'get', '200'],
    ['/api/persons/{id}/rights/{code}', 'put', '200'],
  ] as const;

  it.each(RIGHTS_CONTRACT)(
    '%s %s (rights) is documented with a summary and its success body (%s)',
    (path, method, status) => {
      expect(op(path, method).summary).toEqual(expect.any(String));
      expect(responseOf(path, method, status)).toBeDefined();
    },
  );

  it('documents the bodies of the rights contract with the names of the spec', () => {
    const fields = (path: string, method: string) =>
      Object.keys(bodyOf(path, method).properties!).sort();
    expect(fields('/api/rights', 'post')).toEqual(['code', 'label']);
    expect(fields('/api/persons/{id}/rights/{code}', 'put')).toEqual(
      ['monthlyAmount', 'note', 'reason', 'status', 'version'].sort(),
    );
    expect(bodyOf('/api/persons/{id}/rights/{code}', 'put').required).toEqual(['status']);
    const query = op('/api/persons', 'get') as Operation & { parameters?: { name: string }[] };
    expect((query.parameters ?? []).map((p) => p.name)).toEqual(
      expect.arrayContaining(['status', 'right', 'rightStatus', 'reason']),
    );
  });

  it('documents the districts: staff and admins read, admins add and change them, 409 on a name taken', () => {
    const fields = (path: string, method: string) =>
      Object.keys(bodyOf(path, method).properties!).sort();
    expect(responseOf('/api/districts', 'get', '200')).toBeDefined();
    expect(fields('/api/districts', 'post')).toEqual(['code', 'name', 'qpv']);
    expect(bodyOf('/api/districts', 'post').required).toEqual(['name']);
    expect(fields('/api/districts/{id}', 'patch')).toEqual([
      'archived',
      'code',
      'name',
      'qpv',
      'version',
    ]);
    expect(bodyOf('/api/districts/{id}', 'patch').required).toEqual(['version']);
    expect(op('/api/districts', 'post').responses['409']).toBeDefined();
    expect(op('/api/districts/{id}', 'patch').responses['409']).toBeDefined();
  });

  it('documents the request bodies of the referral contract with the names of the spec', () => {
    const fields = (path: string, method: string) =>
      Object.keys(bodyOf(path, method).properties!).sort();
    expect(fields('/api/persons/{id}/referrals', 'post')).toEqual(
      ['partnerId', 'reason', 'rightCode', 'serviceId', 'sharedSummary'].sort(),
    );
    expect(bodyOf('/api/persons/{id}/referrals', 'post').required?.sort()).toEqual([
      'partnerId',
      'reason',
    ]);
    expect(fields('/api/referrals/{id}/transitions', 'post')).toEqual(
      ['outcome', 'reason', 'to', 'version'].sort(),
    );
    expect(fields('/api/persons/{id}/consents', 'post')).toEqual(
      expect.arrayContaining(['purpose', 'partnerId', 'method', 'givenAt', 'expiresAt']),
    );
    expect(fields('/api/partners', 'post')).toEqual(
      expect.arrayContaining(['name', 'email', 'phone', 'services']),
    );
    // Whole descriptions: the partner without its services, and one service as at creation;
    // a change may carry the version it was decided on (optional, 409 if stale).
    expect(fields('/api/partners/{id}', 'put')).toEqual(
      ['area', 'description', 'email', 'howToReach', 'name', 'phone', 'version', 'website'].sort(),
    );
    expect(bodyOf('/api/partners/{id}', 'put').required?.sort()).toEqual(['email', 'name']);
    const service = [
      'area',
      'audience',
      'description',
      'howToReach',
      'name',
      'responseDelayDays',
      'themes',
    ];
    for (const [path, method, extra] of [
      ['/api/partners/{id}/services', 'post', []],
      ['/api/partners/{id}/services/{serviceId}', 'put', ['version']],
    ] as const) {
      expect(fields(path, method)).toEqual([...service, ...extra].sort());
      expect(bodyOf(path, method).required?.sort()).toEqual(['name', 'themes']);
    }
    for (const [path, method] of [
      ['/api/persons/{id}/referrals', 'post'],
      ['/api/referrals/{id}/transitions', 'post'],
      ['/api/persons/{id}/consents', 'post'],
      ['/api/partners/{id}', 'put'],
      ['/api/partners/{id}/services', 'post'],
      ['/api/partners/{id}/services/{serviceId}', 'put'],
    ])
      expect(bodyOf(path, method).additionalProperties).toBe(false);
  });

  it('lists the target statuses and the coded rejection reasons of a move as enums', () => {
    const body = bodyOf('/api/referrals/{id}/transitions', 'post');
    expect(body.properties!.to.enum).toEqual(REFERRAL_STATUSES.filter((x) => x !== 'requested'));
    const reasons = body
      .properties!.reason.anyOf!.map((s) => component(s.$ref)?.enum)
      .find(Boolean);
    expect(reasons).toEqual([...REJECTION_REASONS]);
  });

  it('tells the staff view from the partner view of a referral', () => {
    const either = responseOf('/api/referrals/{id}', 'get', '200')!;
    expect(either.anyOf!.map((s) => s.$ref).sort()).toEqual([
      '#/components/schemas/PartnerReferral',
      '#/components/schemas/Referral',
    ]);
    const partner = Object.keys(component('#/components/schemas/PartnerReferral').properties!);
    const staff = Object.keys(component('#/components/schemas/Referral').properties!);
    // The partner view holds nothing of the person but the name and the shared details.
    expect(partner).not.toEqual(expect.arrayContaining(['personId']));
    expect(partner).not.toContain('consentId');
    expect(staff).toEqual(expect.arrayContaining(['personId', 'consentId', 'statusReasonCode']));
    expect(
      Object.keys(component('#/components/schemas/PartnerReferral').properties!.person.properties!),
    ).toEqual(['displayName', 'phone', 'email', 'address']);
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, o]) => ({ path, method, o })),
    );

  it('declares the success answer of every endpoint: a JSON schema, or 204 without a body', () => {
    const missing = operations()
      .filter(({ o }) => {
        const success = Object.keys(o.responses).filter((s) => s.startsWith('2'));
        if (success.length !== 1) return true;
        return success[0] !== '204' && !Object.keys(o.responses[success[0]].content ?? {}).length;
      })
      .map(({ path, method }) => `${method} ${path}`);
    expect(missing).toEqual([]);
    expect(operations().length).toBeGreaterThan(50);
  });

  it('cannot be given an endpoint without its answer', () => {
    const bare = { method: 'get', path: '/nothing', policy: 'public' } as const;
    expect(() => documentEndpoint({ ...bare, response: undefined as never })).toThrow(
      'GET /api/nothing: no response declared',
    );
    expect(() => documentEndpoint({ ...bare, response: NO_CONTENT, status: 200 })).toThrow(
      'no content answers 204',
    );
  });

  it('tells what the fuzzer found missing: log out answers 204, bodies are required, 413 and the login 401 are documented', () => {
    const logout = op('/api/session', 'delete');
    expect(Object.keys(logout.responses)).toContain('204');
    expect(logout.responses['200']).toBeUndefined();
    expect(logout.responses['204'].content).toBeUndefined();

    const login = op('/api/session', 'post');
    expect(Object.keys(login.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413', '429']),
    );
    for (const { path, method, o } of operations()) {
      const where = `${method} ${path}`;
      if (o.requestBody) {
        // A body with required fields is itself required (an empty one is a 400).
        if ((o.requestBody.content['application/json'].schema.required ?? []).length > 0)
          expect([where, o.requestBody.required]).toEqual([where, true]);
      }
      if (method !== 'get') expect([where, Boolean(o.responses['413'])]).toEqual([where, true]);
      expect([where, o.responses['400'].content?.['application/json'].schema.$ref]).toEqual([
        where,
        '#/components/schemas/ValidationError',
      ]);
    }
    expect(op('/api/persons', 'post').requestBody!.required).toBe(true);
    // No field required, yet {} is refused (give at least one change): required too.
    expect(op('/api/follow-ups/{id}', 'patch').requestBody!.required).toBe(true);
  });

  it('shows the rules the schemas did not: alias or name, expiresAt after givenAt, the thematiques as a list', () => {
    const person = bodyOf('/api/persons', 'post');
    expect(person.description).toContain('An alias or a name');
    expect(person.anyOf!.map((s) => s.required)).toEqual([['alias'], ['firstName'], ['lastName']]);
    expect(
      bodyOf('/api/persons/{id}/consents', 'post').properties!.expiresAt.description,
    ).toContain('after givenAt');
    const theme = bodyOf('/api/partners/{id}/services', 'post').properties!.themes.items!;
    expect(theme.anyOf![0].enum).toEqual([...THEMES]);
    expect(
      new RegExp(theme.anyOf![1].pattern!).test('equipement-et-alimentation--alimentation'),
    ).toBe(true);
    expect(new RegExp(theme.anyOf![1].pattern!).test('inconnu--alimentation')).toBe(false);
    // Every .refine() rule is said in words, on the body or, for a query, the operation.
    const rules = (path: string, method: string) =>
      (op(path, method).requestBody as { description?: string } | undefined)?.description ?? '';
    expect(rules('/api/persons/{id}/consents', 'post')).toContain(
      'expiresAt: must be after givenAt',
    );
    expect(rules('/api/follow-ups/{id}', 'patch')).toContain(
      'status: give at least one of status, dueAt, assigneeId, title',
    );
    expect(rules('/api/follow-ups/reassign', 'post')).toContain(
      'ids: give either ids or fromAssigneeId',
    );
    expect((op('/api/follow-ups', 'get') as { description?: string }).description).toContain(
      'overdue: only open follow-ups are overdue or not',
    );
    expect(bodyOf('/api/users', 'post').properties!.partnerId.description).toContain(
      'Required for the role partner',
    );
    const email = bodyOf('/api/users', 'post').properties!.email;
    expect(new RegExp(email.pattern!).test('a~b@example.fr')).toBe(true);
  });

  describe('what the API answers matches what the document says', () => {
    let w: Awaited<ReturnType<typeof referralWorld>>;
    let ajv: Ajv2020;
    beforeAll(async () => {
      // OpenAPI 3.1 schemas are JSON Schema 2020-12; formats (uuid, date-time) are not checked.
      ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ ...doc, $id: 'api' });
      w = await referralWorld(ctx.app);
    });

    /** The documented success schema of an operation, as a JSON pointer into the document. */
    const pointer = (path: string, method: string, status: string) =>
      `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;

    const check = async (path: string, method: string, status: string, res: request.Response) => {
      expect(res.status).toBe(Number(status));
      const v = ajv.compile({ $ref: `api#${pointer(path, method, status)}` });
      expect(v(JSON.parse(JSON.stringify(res.body))) ? null : ajv.errorsText(v.errors)).toBeNull();
    };

    it('for reports: the public receipt, a partner’s receipts, the queue, one report, its triage, the backlog’s reports', async () => {
      const sent = await request(ctx.app)
        .post(`/api/public/${w.team.structure.slug}/reports`)
        .send({ location: 'Square Mozart', who: 'Jeune homme', concern: 'Dort dehors' });
      await check('/api/public/{structure}/reports', 'post', '202', sent);
      await check(
        '/api/reports',
        'post',
        '201',
        await w.agents.partner.post('/api/reports').send({ location: 'Local', concern: 'Inquiet' }),
      );
      await check(
        '/api/reports/sent',
        'get',
        '200',
        await w.agents.partner.get('/api/reports/sent'),
      );
      const queue = await w.agents.worker.get('/api/reports?status=pending');
      await check('/api/reports', 'get', '200', queue);
      const id = queue.body.items[0].id;
      await check(
        '/api/reports/{id}',
        'get',
        '200',
        await w.agents.worker.get(`/api/reports/${id}`),
      );
      await check(
        '/api/backlog/items',
        'get',
        '200',
        await w.agents.manager.get('/api/backlog/items?key=none&bucket=reports'),
      );
      await check(
        '/api/reports/{id}/triage',
        'post',
        '200',
        await w.agents.worker.post(`/api/reports/${id}/triage`).send({ action: 'create_person' }),
      );
      expect(
        Object.keys(bodyOf('/api/public/{structure}/reports', 'post').properties!).sort(),
      ).toEqual(['concern', 'location', 'reporterContact', 'website', 'who']);
      expect(Object.keys(bodyOf('/api/reports/{id}/triage', 'post').properties!).sort()).toEqual([
        'action',
        'personId',
        'reason',
      ]);
    });

    it('for consents, referrals (staff and partner views, lists, moves) and partners (reads and edits)', async () => {
      const person = await createPerson(w.agents.worker);
      const consent = await w.agents.worker.post(`/api/persons/${person.id}/consents`).send({
        purpose: 'referral',
        partnerId: w.food.partner.id,
        method: 'oral',
        givenAt: '2026-11-01T10:00:00Z',
        sharedFields: ['phone', 'email'],
      });
      await check('/api/persons/{id}/consents', 'post', '201', consent);
      await check(
        '/api/persons/{id}/consents',
        'get',
        '200',
        await w.agents.worker.get(`/api/persons/${person.id}/consents`),
      );
      const created = await refer(w.agents.worker, person.id, w.food.partner.id, {
        serviceId: w.food.service.id,
      });
      await check('/api/persons/{id}/referrals', 'post', '201', created);
      const id = created.body.id;
      for (const agent of [w.agents.worker, w.agents.partner]) {
        await check('/api/referrals/{id}', 'get', '200', await agent.get(`/api/referrals/${id}`));
        await check('/api/referrals', 'get', '200', await agent.get('/api/referrals'));
      }
      await check(
        '/api/referrals/{id}/transitions',
        'post',
        '200',
        await w.agents.partner
          .post(`/api/referrals/${id}/transitions`)
          .send({ to: 'rejected', reason: 'no_capacity' }),
      );
      await check('/api/partners', 'get', '200', await w.agents.worker.get('/api/partners'));
      await check(
        '/api/partners/{id}',
        'get',
        '200',
        await w.agents.worker.get(`/api/partners/${w.food.partner.id}`),
      );
      await check(
        '/api/partners/{id}',
        'put',
        '200',
        await w.agents.admin
          .put(`/api/partners/${w.other.id}`)
          .send({ name: 'Jardin de Cocagne', email: 'jardin@partner.test', area: 'Angers' }),
      );
      const added = await w.agents.admin
        .post(`/api/partners/${w.other.id}/services`)
        .send({ name: 'Paniers solidaires', themes: ['equipement-et-alimentation'] });
      await check('/api/partners/{id}/services', 'post', '201', added);
      await check(
        '/api/partners/{id}/services/{serviceId}',
        'put',
        '200',
        await w.agents.admin
          .put(`/api/partners/${w.other.id}/services/${added.body.services[0].id}`)
          .send({ name: 'Paniers solidaires', themes: ['remobilisation'], responseDelayDays: 7 }),
      );
      await giveConsent(w.agents.worker, person.id, w.other.id);
      await check(
        '/api/consents/{id}/revoke',
        'post',
        '200',
        await w.agents.worker.post(`/api/consents/${consent.body.id}/revoke`),
      );
    });

    it('for the observation: totals only, and each grouping (with a partner row)', async () => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id);
      await refer(w.agents.worker, person.id, w.food.partner.id);
      for (const by of ['', '?by=district', '?by=right', '?by=source', '?by=team']) {
        const res = await w.agents.observer.get(`/api/observation${by}`);
        await check('/api/observation', 'get', '200', res);
        expect(res.body.partners.rows.length).toBeGreaterThan(0);
      }
    });
  });
});
