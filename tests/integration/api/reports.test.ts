import request from 'supertest';
import { RECEIPT_PATTERN } from '../../../server/features/reports/report-receipt';
import {
  REPORT_ESCALATE,
  REPORT_STATUSES,
  type TriageAction,
} from '../../../server/features/reports/report-schemas';
import { reportStatus, reportStatusWhere } from '../../../server/features/reports/report-status';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createStructure, createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';

/** Monday 7 December 2026, 10:00 in Paris. */
const NOW = '2026-12-07T09:00:00Z';

const REPORT = {
  location: 'Parvis de la médiathèque, côté rue Toussaint',
  who: 'Homme ~50 ans, chien noir',
  concern: 'Il dort dehors depuis une semaine et tousse beaucoup.',
  reporterContact: '06 12 34 56 78',
};

let address = 0;
/** A fresh client address (X-Forwarded-For, trusted from loopback), so tests do not share limits. */
const nextAddress = () => {
  address += 1;
  return `10.${Math.floor(address / 250)}.0.${(address % 250) + 1}`;
};

describe('reports API', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let admin: Agent;
  let observer: Agent;
  let partner: Agent;
  let partner2: Agent;
  let outsider: Agent;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    const p = await createPartner(testKnex(), 'Secours populaire', team.structure.id);
    const [pu1, pu2] = await Promise.all([
      createUser(team.structure.id, 'partner', { partnerId: p.id }),
      createUser(team.structure.id, 'partner', { partnerId: p.id }),
    ]);
    [worker, manager, admin, observer, partner, partner2, outsider] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, team.admin.email),
      loginAs(ctx.app, team.observer.email),
      loginAs(ctx.app, pu1.email),
      loginAs(ctx.app, pu2.email),
      loginAs(ctx.app, other.worker.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const post = (slug: string, body: unknown, from = nextAddress()) =>
    request(ctx.app)
      .post(`/api/public/${slug}/reports`)
      .set('X-Forwarded-For', from)
      .send(body as object);
  const fieldsOf = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);
  const rowByReceipt = (receiptNumber: string) =>
    testKnex()('reports').where({ receipt_number: receiptNumber }).first();

  async function report(body: Record<string, unknown> = REPORT) {
    const res = await post(team.structure.slug, body);
    expect(res.status).toBe(202);
    const row = await rowByReceipt(res.body.receiptNumber);
    return { id: row.id as string, receiptNumber: res.body.receiptNumber as string };
  }

  describe('the public form', () => {
    it('when a resident reports, then 202 with a receipt number free of personal data, the text encrypted at rest, an escalation planned 5 business days later, and an audit event without actor', async () => {
      const res = await post(team.structure.slug, REPORT);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({
        receiptNumber: expect.any(String),
        receivedAt: NOW.replace('Z', '.000Z'),
      });
      expect(res.body.receiptNumber).toMatch(RECEIPT_PATTERN);
      const row = await rowByReceipt(res.body.receiptNumber);
      expect(row).toMatchObject({
        structure_id: team.structure.id,
        channel: 'public',
        author_id: null,
      });
      const raw = JSON.stringify(row);
      for (const v of Object.values(REPORT)) expect(raw).not.toContain(v);
      expect(row.location_enc).toMatch(/^v1\./);
      const deadline = await testKnex()('deadlines')
        .where({ subject_type: 'report', subject_id: row.id, kind: REPORT_ESCALATE })
        .first();
      // Monday 10:00 + 5 business days: Monday 14 December, 10:00 Paris.
      expect(deadline).toMatchObject({
        status: 'pending',
        due_at: new Date('2026-12-14T09:00:00Z'),
      });
      const [audit] = await auditRows({ action: 'report.create', subject_id: row.id });
      expect(audit).toMatchObject({ actor_id: null, structure_id: team.structure.id });
      expect(JSON.stringify(audit.details)).not.toContain('médiathèque');
    });

    it('when the structure slug is unknown, then 404; when it is malformed, then 400 naming structure', async () => {
      expect((await post('nulle-part', REPORT)).status).toBe(404);
      const bad = await post('Pas Un Slug', REPORT);
      expect(bad.status).toBe(400);
      expect(fieldsOf(bad)).toEqual(['structure']);
    });

    it('when the body has unknown fields, wrong types, missing or overlong text, control characters or is not an object, then 400 naming the field; a 1 MB string 413; never a 500', async () => {
      const cases: [unknown, string[]][] = [
        [{ ...REPORT, name: 'Jean' }, ['name']],
        [{ ...REPORT, location: 42 }, ['location']],
        [{ ...REPORT, concern: ['a'] }, ['concern']],
        [{ location: REPORT.location }, ['concern']],
        [{ ...REPORT, concern: '   ' }, ['concern']],
        [{ ...REPORT, concern: 'x'.repeat(2001) }, ['concern']],
        [{ ...REPORT, location: 'x'.repeat(201) }, ['location']],
        [{ ...REPORT, reporterContact: 'x'.repeat(201) }, ['reporterContact']],
        [{ ...REPORT, who: { a: 1 } }, ['who']],
        [{ ...REPORT, website: 7 }, ['website']],
        [{ ...REPORT, concern: 'a\u0000b' }, ['concern']],
        [{ ...REPORT, __proto__: { x: 1 }, constructor: 'x' }, ['constructor']],
      ];
      for (const [body, fields] of cases) {
        const res = await post(team.structure.slug, body);
        expect([res.status, fieldsOf(res)]).toEqual([400, fields]);
      }
      for (const body of [[REPORT], 'texte', null, 12]) {
        const res = await post(team.structure.slug, JSON.stringify(body)).set(
          'Content-Type',
          'application/json',
        );
        expect(res.status).toBe(400);
      }
      const huge = await post(team.structure.slug, { ...REPORT, concern: 'x'.repeat(1024 * 1024) });
      expect(huge.status).toBe(413);
      const malformed = await request(ctx.app)
        .post(`/api/public/${team.structure.slug}/reports`)
        .set('Content-Type', 'application/json')
        .send('{"location": ');
      expect(malformed.status).toBe(400);
      const count = await testKnex()('reports')
        .where({ structure_id: team.structure.id })
        .count('* as n');
      expect(Number(count[0].n)).toBe(1);
    });

    it('when the honeypot is filled, then a 202 with a receipt like any, and nothing is stored nor planned', async () => {
      const before = await testKnex()('reports').count('* as n');
      const res = await post(team.structure.slug, { ...REPORT, website: 'http://spam.example' });
      expect(res.status).toBe(202);
      expect(res.body.receiptNumber).toMatch(RECEIPT_PATTERN);
      expect(await rowByReceipt(res.body.receiptNumber)).toBeUndefined();
      expect(await testKnex()('reports').count('* as n')).toEqual(before);
    });

    it('when one address sends 60 reports, then the first 10 are taken and the rest get 429 with Retry-After, never a 500', async () => {
      const s = await createStructure();
      const from = '192.0.2.77';
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, () => post(s.slug, REPORT, from)),
        );
        for (const res of batch) {
          statuses.push(res.status);
          if (res.status === 429) {
            expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
            expect(res.body.error.code).toBe('too_many_requests');
          }
        }
      }
      expect(statuses.filter((x) => x === 202)).toHaveLength(10);
      expect(statuses.filter((x) => x === 429)).toHaveLength(50);
      const [{ n }] = await testKnex()('reports').where({ structure_id: s.id }).count('* as n');
      expect(Number(n)).toBe(10);
      // Another address still reports to that structure.
      expect((await post(s.slug, REPORT, '192.0.2.78')).status).toBe(202);
    });

    it('when an IPv6 client rotates its address within its /64, then it is counted as one address (10, then 429); another /64 still reports; an IPv4-mapped address counts as its IPv4', async () => {
      const s = await createStructure();
      const statuses: number[] = [];
      for (let i = 1; i <= 0x3c; i++)
        statuses.push((await post(s.slug, REPORT, `2001:db8::${i.toString(16)}`)).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(202));
      expect(statuses.slice(10)).toEqual(Array(0x3c - 10).fill(429));
      expect((await post(s.slug, REPORT, '2001:db8:0:1::1')).status).toBe(202);

      for (let i = 0; i < 10; i++)
        expect((await post(s.slug, REPORT, '192.0.2.90')).status).toBe(202);
      expect((await post(s.slug, REPORT, '::ffff:192.0.2.90')).status).toBe(429);
    });

    it('when 60 addresses flood one structure, then its form takes 30 an hour and answers 429 after, never a 500; another structure is unaffected', async () => {
      const s = await createStructure();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, j) => post(s.slug, REPORT, `192.0.3.${i * 10 + j + 1}`)),
        );
        statuses.push(...batch.map((r) => r.status));
      }
      expect(statuses.filter((x) => x === 202)).toHaveLength(30);
      expect(statuses.filter((x) => x === 429)).toHaveLength(30);
      expect(statuses).not.toContain(500);
      expect((await post(team.structure.slug, REPORT, '192.0.3.200')).status).toBe(202);
    });
  });

  describe('partners', () => {
    it('when a partner reports from their inbox, then 201 with a receipt, the partner as author; they see their own receipts, another user of the same partner none', async () => {
      const res = await partner.post('/api/reports').send({
        location: 'Local du Secours populaire',
        concern: 'Une famille vient chaque semaine, sans droits ouverts.',
      });
      expect(res.status).toBe(201);
      expect(res.body.receiptNumber).toMatch(RECEIPT_PATTERN);
      const row = await rowByReceipt(res.body.receiptNumber);
      expect(row).toMatchObject({ channel: 'partner', structure_id: team.structure.id });
      expect(row.author_id).not.toBeNull();

      const mine = await partner.get('/api/reports/sent');
      expect(mine.status).toBe(200);
      expect(mine.body).toEqual({
        items: [
          {
            id: row.id,
            receiptNumber: res.body.receiptNumber,
            createdAt: expect.any(String),
            handled: false,
          },
        ],
        total: 1,
        page: 1,
        pageSize: 20,
      });
      const theirs = await partner2.get('/api/reports/sent');
      expect(theirs.body.total).toBe(0);
    });

    it('when a partner reads the queue or a report, or triages, then 403; a partner body with a reporter contact is 400', async () => {
      const { id } = await report();
      expect((await partner.get('/api/reports')).status).toBe(403);
      expect((await partner.get(`/api/reports/${id}`)).status).toBe(403);
      expect(
        (await partner.post(`/api/reports/${id}/triage`).send({ action: 'dismiss', reason: 'x' }))
          .status,
      ).toBe(403);
      const bad = await partner.post('/api/reports').send({ ...REPORT });
      expect(bad.status).toBe(400);
      expect(fieldsOf(bad)).toEqual(['reporterContact']);
    });

    it('when staff, observers or admins use the partner endpoints, or anyone signed out, then 401/403', async () => {
      expect((await worker.post('/api/reports').send({ location: 'a', concern: 'b' })).status).toBe(
        403,
      );
      expect((await worker.get('/api/reports/sent')).status).toBe(403);
      expect((await request(ctx.app).get('/api/reports')).status).toBe(401);
      expect(
        (await request(ctx.app).post('/api/reports').send({ location: 'a', concern: 'b' })).status,
      ).toBe(401);
    });
  });

  describe('the triage queue', () => {
    it('when a worker lists waiting reports, then they come oldest first, whole and decrypted, paged, and the read is audited', async () => {
      const res = await worker.get('/api/reports?status=pending&pageSize=100');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ page: 1, pageSize: 100 });
      expect(res.body.total).toBe(res.body.items.length);
      const first = res.body.items.find((r: { channel: string }) => r.channel === 'public');
      expect(first).toMatchObject({
        ...REPORT,
        status: 'pending',
        triageDueAt: '2026-12-14T09:00:00.000Z',
        triagedAt: null,
        personId: null,
        authorName: null,
      });
      const byPartner = res.body.items.find((r: { channel: string }) => r.channel === 'partner');
      expect(byPartner.authorName).toEqual(expect.any(String));
      const [audit] = await auditRows({ action: 'report.list', actor_id: team.worker.id });
      expect(audit.details.ids).toEqual(res.body.items.map((r: { id: string }) => r.id));
    });

    it('when observers or admins ask, then 403; a worker of another structure gets 404 for the report and none in their list', async () => {
      const { id } = await report();
      for (const agent of [observer, admin]) {
        expect((await agent.get('/api/reports')).status).toBe(403);
        expect((await agent.get(`/api/reports/${id}`)).status).toBe(403);
        expect(
          (await agent.post(`/api/reports/${id}/triage`).send({ action: 'dismiss', reason: 'x' }))
            .status,
        ).toBe(403);
      }
      expect((await outsider.get(`/api/reports/${id}`)).status).toBe(404);
      expect(
        (await outsider.post(`/api/reports/${id}/triage`).send({ action: 'dismiss', reason: 'x' }))
          .status,
      ).toBe(404);
      expect((await outsider.get('/api/reports')).body.total).toBe(0);
      expect((await worker.get('/api/reports/not-a-uuid')).status).toBe(400);
    });

    it('when a report is triaged into a new person, then the person has the report’s place, alias and concern, source citizen_report, path identified; the escalation is cancelled; a second triage is 409', async () => {
      const { id, receiptNumber } = await report();
      const res = await worker.post(`/api/reports/${id}/triage`).send({ action: 'create_person' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'person_created',
        triageAction: 'create_person',
        triagedAt: NOW.replace('Z', '.000Z'),
        triagedByName: team.worker.name,
        triageDueAt: null,
      });
      const person = await worker.get(`/api/persons/${res.body.personId}`);
      expect(person.status).toBe(200);
      expect(person.body).toMatchObject({
        alias: REPORT.who,
        place: REPORT.location,
        source: 'citizen_report',
        status: 'identified',
        referentId: team.worker.id,
      });
      expect(person.body.situation).toBe(`Signalement ${receiptNumber} : ${REPORT.concern}`);
      const timeline = await worker.get(`/api/persons/${res.body.personId}/timeline`);
      expect(timeline.body.items).toEqual([
        expect.objectContaining({
          type: 'report',
          id,
          data: expect.objectContaining({ receiptNumber, concern: REPORT.concern }),
        }),
      ]);
      const deadline = await testKnex()('deadlines')
        .where({ subject_id: id, kind: REPORT_ESCALATE })
        .first();
      expect(deadline.status).toBe('cancelled');
      expect(await auditRows({ action: 'report.triage', subject_id: id })).toHaveLength(1);
      expect(
        await auditRows({ action: 'person.create', subject_id: res.body.personId }),
      ).toHaveLength(1);

      const again = await manager
        .post(`/api/reports/${id}/triage`)
        .send({ action: 'dismiss', reason: 'doublon' });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({
        code: 'invalid_transition',
        details: { status: 'person_created' },
      });
    });

    it('when two workers triage the same report at once, then one wins and the other gets 409', async () => {
      const { id } = await report();
      const [a, b] = await Promise.all([
        worker.post(`/api/reports/${id}/triage`).send({ action: 'create_person' }),
        manager.post(`/api/reports/${id}/triage`).send({ action: 'dismiss', reason: 'Déjà suivi' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const [{ n }] = await testKnex()('audit_events')
        .where({ action: 'report.triage', subject_id: id })
        .count('* as n');
      expect(Number(n)).toBe(1);
    });

    it('when a report is linked, then it must name a person of the structure (400 naming personId otherwise) and the person’s file shows the activity', async () => {
      const { id } = await report();
      const theirs = await createPerson(outsider);
      const outside = await worker
        .post(`/api/reports/${id}/triage`)
        .send({ action: 'link', personId: theirs.id });
      expect(outside.status).toBe(400);
      expect(fieldsOf(outside)).toEqual(['personId']);
      const missing = await worker.post(`/api/reports/${id}/triage`).send({ action: 'link' });
      expect(fieldsOf(missing)).toEqual(['personId']);

      const known = await createPerson(worker, { alias: 'Homme au chien noir' });
      // The file's creation stamps its last activity from the database's clock; the link, an
      // hour later by the app's clock, moves it on (a fixed date would pass on its day).
      const created = await testKnex()('persons').where({ id: known.id }).first('last_activity_at');
      const linkedAt = new Date(new Date(created.last_activity_at).getTime() + 60 * 60 * 1000);
      clock.set(linkedAt.toISOString());
      const res = await worker
        .post(`/api/reports/${id}/triage`)
        .send({ action: 'link', personId: known.id, reason: 'Déjà rencontré' });
      clock.set(NOW);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'linked',
        personId: known.id,
        triageReason: 'Déjà rencontré',
      });
      const person = await testKnex()('persons').where({ id: known.id }).first();
      expect(person.last_activity_at).toEqual(linkedAt);
      expect(
        await auditRows({ action: 'person.report_linked', subject_id: known.id }),
      ).toHaveLength(1);
    });

    it('when a report is dismissed, then a reason is required (400 naming reason), kept encrypted, and the report leaves the queue', async () => {
      const { id } = await report();
      const noReason = await worker.post(`/api/reports/${id}/triage`).send({ action: 'dismiss' });
      expect(noReason.status).toBe(400);
      expect(fieldsOf(noReason)).toEqual(['reason']);
      const withPerson = await worker
        .post(`/api/reports/${id}/triage`)
        .send({ action: 'dismiss', reason: 'x', personId: team.worker.id });
      expect(fieldsOf(withPerson)).toEqual(['personId']);
      const badAction = await worker.post(`/api/reports/${id}/triage`).send({ action: 'delete' });
      expect(fieldsOf(badAction)).toEqual(['action']);

      const res = await worker
        .post(`/api/reports/${id}/triage`)
        .send({ action: 'dismiss', reason: 'Message sans rapport (publicité)' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('dismissed');
      const row = await testKnex()('reports').where({ id }).first();
      expect(row.triage_reason_enc).toMatch(/^v1\./);
      const queue = await worker.get('/api/reports?status=pending&pageSize=100');
      expect(queue.body.items.map((r: { id: string }) => r.id)).not.toContain(id);
      const dismissed = await worker.get('/api/reports?status=dismissed');
      expect(dismissed.body.items.map((r: { id: string }) => r.id)).toContain(id);
      expect((await worker.get('/api/reports?status=open')).status).toBe(400);
      const read = await manager.get(`/api/reports/${id}`);
      expect(read.body.triageReason).toBe('Message sans rapport (publicité)');
      expect(await auditRows({ action: 'report.read', subject_id: id })).toHaveLength(1);
    });

    it('when a partner’s report becomes a person, then the person’s source is partner, and the partner sees it handled', async () => {
      const sent = await partner
        .post('/api/reports')
        .send({ location: 'Place du Ralliement', concern: 'Femme âgée seule, semble perdue.' });
      const row = await rowByReceipt(sent.body.receiptNumber);
      const res = await worker
        .post(`/api/reports/${row.id}/triage`)
        .send({ action: 'create_person' });
      const person = await worker.get(`/api/persons/${res.body.personId}`);
      expect(person.body).toMatchObject({
        source: 'partner',
        alias: `Signalement ${sent.body.receiptNumber}`,
      });
      const mine = await partner.get('/api/reports/sent');
      expect(mine.body.items.find((r: { id: string }) => r.id === row.id).handled).toBe(true);
    });
  });

  describe('merges', () => {
    it('when the file a report was linked to is merged into another, then the report follows it to the kept file', async () => {
      const { id } = await report();
      const [a, b] = [await createPerson(worker), await createPerson(worker)];
      await worker.post(`/api/reports/${id}/triage`).send({ action: 'link', personId: a.id });
      const merged = await manager.post(`/api/persons/${a.id}/merge`).send({
        intoId: b.id,
        version: (await worker.get(`/api/persons/${a.id}`)).body.version,
        intoVersion: b.version,
      });
      expect(merged.status).toBe(200);
      expect((await worker.get(`/api/reports/${id}`)).body.personId).toBe(b.id);
      const timeline = await worker.get(`/api/persons/${b.id}/timeline`);
      expect(timeline.body.items.map((i: { id: string }) => i.id)).toContain(id);
    });
  });

  describe('the derived status', () => {
    it('when the status is derived in code and in SQL, then both name the same reports', async () => {
      const rows: { id: string; triage_action: TriageAction | null }[] = await testKnex()('reports')
        .where({ structure_id: team.structure.id })
        .select('id', 'triage_action');
      // Every status is present by now (the tests above triaged each way).
      expect(new Set(rows.map((r) => reportStatus(r.triage_action)))).toEqual(
        new Set(REPORT_STATUSES),
      );
      for (const status of REPORT_STATUSES) {
        const w = reportStatusWhere('a', status);
        const inSql = await testKnex()('reports as a')
          .where('a.structure_id', team.structure.id)
          .whereRaw(w.sql, w.bindings)
          .pluck('a.id');
        const inCode = rows
          .filter((r) => reportStatus(r.triage_action) === status)
          .map((r) => r.id);
        expect(inSql.sort()).toEqual(inCode.sort());
      }
    });
  });

  describe('the backlog', () => {
    it('when reports wait, then the manager’s backlog counts them in the group without key and lists them in the reports bucket, oldest first, without their text', async () => {
      const waiting = await worker.get('/api/reports?status=pending&pageSize=100');
      const total = waiting.body.total;
      expect(total).toBeGreaterThan(0);
      const backlog = await manager.get('/api/backlog');
      expect(backlog.status).toBe(200);
      expect(backlog.body.totals.reports).toBe(total);
      const none = backlog.body.groups.find((g: { key: string }) => g.key === 'none');
      expect(none.counts.reports).toBe(total);
      const byDistrict = await manager.get('/api/backlog?groupBy=district');
      expect(byDistrict.body.totals.reports).toBe(total);

      const items = await manager.get('/api/backlog/items?key=none&bucket=reports&pageSize=100');
      expect(items.status).toBe(200);
      expect(items.body.total).toBe(total);
      expect(items.body.items.map((i: { id: string }) => i.id)).toEqual(
        waiting.body.items.map((r: { id: string }) => r.id),
      );
      expect(items.body.items[0]).toEqual({
        type: 'report',
        id: expect.any(String),
        receiptNumber: expect.stringMatching(RECEIPT_PATTERN),
        receivedAt: expect.any(String),
        channel: expect.stringMatching(/^(public|partner)$/),
        triageDueAt: expect.any(String),
      });
      const [audit] = (
        await auditRows({ action: 'backlog.items', actor_id: team.manager.id })
      ).slice(-1);
      expect(audit.details.reportIds).toHaveLength(total);
      const elsewhere = await manager.get(
        `/api/backlog/items?key=${team.worker.id}&bucket=reports`,
      );
      expect(elsewhere.body.total).toBe(0);
      // Another structure's backlog counts none of them.
      const theirs = await loginAs(ctx.app, other.manager.email);
      expect((await theirs.get('/api/backlog')).body.totals.reports).toBe(0);
    });
  });
});
