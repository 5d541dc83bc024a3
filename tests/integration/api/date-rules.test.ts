import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { countRows, testKnex } from '../../setup/db';
import { createPartner, createTeam } from '../../setup/factories';
import { createPerson, type Agent } from './helpers';

/** Saturday 5 December 2026, 23:58 in Paris: a weekend night, two minutes before Sunday. */
const NOW = '2026-12-05T22:58:00.000Z';
const minutes = (n: number) => new Date(Date.parse(NOW) + n * 60_000).toISOString();

interface Issue {
  field: string;
  code?: string;
}
const fieldsOf = (res: { body: { error: { details: Issue[] } } }) =>
  res.body.error.details.map((d) => d.field);

describe('dates that make sense, on the API (clock fixed on a Saturday night)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let admin: Agent;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    [worker, admin] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.admin.email),
    ]);
  });
  afterAll(async () => ctx.close());

  describe('a contact is not in the future', () => {
    const contact = { channel: 'street', outcome: 'reached' };

    it('when occurredAt is ten minutes ahead (Sunday 00:08), then 400 naming occurredAt with date_in_future, and nothing is written', async () => {
      const p = await createPerson(worker);
      const res = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...contact, occurredAt: minutes(10) });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([
        { field: 'occurredAt', code: 'date_in_future', message: 'must not be in the future' },
      ]);
      expect(await countRows('contacts', { person_id: p.id })).toBe(0);
    });

    it('when occurredAt is three minutes ahead (a phone whose clock runs fast), then 201, recorded at the server’s now', async () => {
      const p = await createPerson(worker);
      const res = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...contact, occurredAt: minutes(3) });
      expect(res.status).toBe(201);
      expect(res.body.occurredAt).toBe(NOW);
    });

    it('when the next follow-up is in the past, then 400 naming nextFollowUpAt; with allowPast, 201 and the follow-up is planned, overdue', async () => {
      const p = await createPerson(worker);
      const body = { ...contact, occurredAt: NOW, nextFollowUpAt: minutes(-120) };
      const refused = await worker.post(`/api/persons/${p.id}/contacts`).send(body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        expect.objectContaining({ field: 'nextFollowUpAt', code: 'date_in_past' }),
      ]);
      expect(await countRows('contacts', { person_id: p.id })).toBe(0);
      expect(await countRows('follow_ups', { person_id: p.id })).toBe(0);

      const ok = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...body, allowPast: true });
      expect(ok.status).toBe(201);
      const f = await worker.get('/api/follow-ups').query({ personId: p.id });
      expect(f.body.items).toEqual([
        expect.objectContaining({ id: ok.body.followUpId, overdue: true }),
      ]);
    });

    it('when allowPast comes without nextFollowUpAt, or is not a boolean, then 400 naming allowPast', async () => {
      const p = await createPerson(worker);
      const alone = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...contact, occurredAt: NOW, allowPast: true });
      expect(alone.status).toBe(400);
      expect(fieldsOf(alone)).toEqual(['allowPast']);
      const text = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...contact, occurredAt: NOW, nextFollowUpAt: NOW, allowPast: 'yes' });
      expect(text.status).toBe(400);
      expect(fieldsOf(text)).toContain('allowPast');
    });
  });

  describe('a consent is not given in the future', () => {
    it('when givenAt is tomorrow, then 400 naming givenAt with date_in_future, and nothing is written; two minutes ahead, 201', async () => {
      const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);
      const p = await createPerson(worker);
      const body = { purpose: 'referral', partnerId: partner.id, method: 'oral' };
      const refused = await worker
        .post(`/api/persons/${p.id}/consents`)
        .send({ ...body, givenAt: minutes(24 * 60) });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        { field: 'givenAt', code: 'date_in_future', message: 'must not be in the future' },
      ]);
      expect(await countRows('consents', { person_id: p.id })).toBe(0);

      const ok = await worker
        .post(`/api/persons/${p.id}/consents`)
        .send({ ...body, givenAt: minutes(2) });
      expect(ok.status).toBe(201);
      // Recorded at the server's now, so it is valid at once: a referral may follow.
      expect(ok.body).toMatchObject({ givenAt: NOW, valid: true });
      const referral = await worker
        .post(`/api/persons/${p.id}/referrals`)
        .send({ partnerId: partner.id, reason: 'Aide alimentaire' });
      expect(referral.status).toBe(201);
    });
  });

  describe('a birth year lies between 1900 and this year', () => {
    it.each([1899, 2027, 0, -1975])(
      'when a person is created born in %i, then 400 naming birthYear and nothing is written',
      async (birthYear) => {
        const alias = `Né en ${birthYear}`;
        const res = await worker
          .post('/api/persons')
          .send({ alias, source: 'outreach', birthYear });
        expect(res.status).toBe(400);
        expect(res.body.error.details).toEqual([
          {
            field: 'birthYear',
            code: 'birth_year_out_of_range',
            message: 'must be between 1900 and 2026',
          },
        ]);
        expect(
          await countRows('persons', { structure_id: team.structure.id, birth_year: birthYear }),
        ).toBe(0);
      },
    );

    it.each([1900, 2026])('when a person is created born in %i, then 201', async (birthYear) => {
      const p = await createPerson(worker, { birthYear });
      expect(p.birthYear).toBe(birthYear);
    });

    it('when a person is updated to next year, then 400 naming birthYear and the version stays', async () => {
      const p = await createPerson(worker, { birthYear: 1975 });
      const res = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ birthYear: 2027, version: p.version });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['birthYear']);
      const now = await worker.get(`/api/persons/${p.id}`);
      expect(now.body).toMatchObject({ birthYear: 1975, version: p.version });
    });
  });

  describe('a follow-up falls due in the past only when confirmed', () => {
    it('when planned for Saturday 20:00 without allowPast, then 400 naming dueAt and nothing is written; with allowPast, 201 and overdue', async () => {
      const p = await createPerson(worker);
      const body = { title: 'Appel à la CAF (fait en retard)', dueAt: '2026-12-05T19:00:00Z' };
      const deadlines = () => countRows('deadlines', { structure_id: team.structure.id });
      const before = await deadlines();
      const refused = await worker.post(`/api/persons/${p.id}/follow-ups`).send(body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        {
          field: 'dueAt',
          code: 'date_in_past',
          message: 'is in the past: send allowPast: true to confirm it',
        },
      ]);
      expect(await countRows('follow_ups', { person_id: p.id })).toBe(0);
      expect(await deadlines()).toBe(before);

      const ok = await worker
        .post(`/api/persons/${p.id}/follow-ups`)
        .send({ ...body, allowPast: true });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ status: 'open', overdue: true });
    });

    it('when planned for Monday morning or three minutes ago, then 201 without confirmation: the weekend and the clock skew change nothing', async () => {
      const p = await createPerson(worker);
      for (const dueAt of ['2026-12-07T08:00:00Z', minutes(-3)]) {
        const res = await worker
          .post(`/api/persons/${p.id}/follow-ups`)
          .send({ title: 'Rappeler', dueAt });
        expect(res.status).toBe(201);
      }
    });

    it('when rescheduled to the past without allowPast, then 400 naming dueAt and the date stays; with allowPast, 200', async () => {
      const p = await createPerson(worker);
      const f = (
        await worker
          .post(`/api/persons/${p.id}/follow-ups`)
          .send({ title: 'Visite', dueAt: '2026-12-08T09:00:00Z' })
          .expect(201)
      ).body;
      const refused = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ dueAt: '2026-12-01T09:00:00Z' });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        expect.objectContaining({ field: 'dueAt', code: 'date_in_past' }),
      ]);
      const row = await testKnex()('follow_ups').where({ id: f.id }).first();
      expect(row.due_at.toISOString()).toBe('2026-12-08T09:00:00.000Z');

      const ok = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ dueAt: '2026-12-01T09:00:00Z', allowPast: true });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ dueAt: '2026-12-01T09:00:00.000Z', overdue: true });
    });

    it('when allowPast comes without dueAt, then 400 naming allowPast; completing an overdue follow-up needs no confirmation', async () => {
      const p = await createPerson(worker);
      const f = (
        await worker
          .post(`/api/persons/${p.id}/follow-ups`)
          .send({ title: 'Visite', dueAt: '2026-11-30T09:00:00Z', allowPast: true })
          .expect(201)
      ).body;
      const alone = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ status: 'done', allowPast: true });
      expect(alone.status).toBe(400);
      expect(fieldsOf(alone)).toEqual(['allowPast']);
      const done = await worker.patch(`/api/follow-ups/${f.id}`).send({ status: 'done' });
      expect(done.status).toBe(200);
    });
  });

  describe('a partner website is an http(s) address', () => {
    const partner = {
      name: 'Jardin de la Roseraie',
      email: 'contact@roseraie.test',
      services: [{ name: 'Maraîchage', themes: ['remobilisation'] }],
    };

    it.each([
      'javascript:alert(document.cookie)',
      'JavaScript://www.roseraie.test/%0Aalert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://roseraie.test',
      'www.roseraie.test',
    ])('when created with %s, then 400 naming website and nothing is written', async (website) => {
      const res = await admin.post('/api/partners').send({ ...partner, website });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { field: 'website', message: 'must be an http(s) address' },
      ]);
      expect(await countRows('partners', { name: partner.name })).toBe(0);
    });

    it('when created with an https address, then 201 with it, trimmed; an update to javascript: is 400 and changes nothing', async () => {
      const res = await admin
        .post('/api/partners')
        .send({ ...partner, website: ' https://www.roseraie.test/contact ' });
      expect(res.status).toBe(201);
      expect(res.body.website).toBe('https://www.roseraie.test/contact');
      const { services: _s, ...rest } = partner;
      const refused = await admin
        .put(`/api/partners/${res.body.id}`)
        .send({ ...rest, website: 'javascript:alert(1)' });
      expect(refused.status).toBe(400);
      expect(fieldsOf(refused)).toEqual(['website']);
      const ok = await admin
        .put(`/api/partners/${res.body.id}`)
        .send({ ...rest, website: 'http://roseraie.test' });
      expect(ok.status).toBe(200);
      expect(ok.body.website).toBe('http://roseraie.test');
    });
  });
});
