import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';
import { inYears } from '../../setup/dates';
import { ANONYMISED_LABEL } from '../../../server/features/retention/retention-repository';

describe('persons API', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let worker2: Agent;
  let manager: Agent;
  let outsider: Agent;
  beforeAll(async () => {
    ctx = await createTestContext();
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [worker, worker2, manager, outsider] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.worker2.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, other.worker.email),
    ]);
  });
  afterAll(async () => ctx.close());

  describe('POST /api/persons', () => {
    it('when only an alias and a source are given, then 201 with the whole person, version 1, the caller as referent', async () => {
      const res = await worker
        .post('/api/persons')
        .send({ alias: 'Femme ~30 ans, arrêt de bus', source: 'outreach' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: expect.any(String),
        alias: 'Femme ~30 ans, arrêt de bus',
        firstName: null,
        status: 'identified',
        version: 1,
        referentId: team.worker.id,
        structureId: team.structure.id,
      });
    });

    it('when neither alias nor name is given, then 400 naming alias', async () => {
      const res = await worker.post('/api/persons').send({ source: 'outreach', birthYear: 1970 });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'alias' })]);
    });

    it('when an unknown field is sent, then 400 naming it', async () => {
      const res = await worker
        .post('/api/persons')
        .send({ alias: 'X', source: 'outreach', nir: '185057800608436' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain('nir');
    });

    it.each([
      ['birthYear', 'mille neuf cent'],
      ['birthYear', 1850],
      ['source', 'rumour'],
      ['email', 'not-an-email'],
      ['phone', 'call me'],
      ['districtId', 'quartier-nord'],
      ['pauseReminders', 'yes'],
      ['alias', 42],
      ['alias', 'Nul\u0000caractère'],
      ['lastName', ''],
    ])('when %s is %j, then 400 naming the field', async (field, value) => {
      const res = await worker
        .post('/api/persons')
        .send({ alias: 'Y', source: 'outreach', [field]: value });
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('when the referent or district belongs to another structure, then 400 naming it', async () => {
      const district = await createDistrict(other.structure.id);
      const byDistrict = await worker
        .post('/api/persons')
        .send({ alias: 'Z', source: 'outreach', districtId: district.id });
      expect(byDistrict.status).toBe(400);
      expect(byDistrict.body.error.details[0].field).toBe('districtId');
      const byReferent = await worker
        .post('/api/persons')
        .send({ alias: 'Z', source: 'outreach', referentId: other.worker.id });
      expect(byReferent.status).toBe(400);
      expect(byReferent.body.error.details[0].field).toBe('referentId');
    });

    it('stores the situation encrypted: the raw column holds a v1. ciphertext, the API the plain text', async () => {
      const plain = 'Dort dans sa voiture depuis mars, diabète non suivi';
      const person = await createPerson(worker, { situation: plain });
      expect(person.situation).toBe(plain);
      const { rows } = await testKnex().raw('SELECT situation_enc FROM persons WHERE id = ?', [
        person.id,
      ]);
      const stored = rows[0].situation_enc as string;
      expect(stored.startsWith('v1.')).toBe(true);
      expect(stored).not.toContain('voiture');
      expect(stored).not.toContain(plain);
    });
  });

  describe('GET /api/persons (search)', () => {
    let districtA: { id: string };
    let ids: Record<string, string>;
    let searchAgent: Agent;
    let searchTeam: Awaited<ReturnType<typeof createTeam>>;
    beforeAll(async () => {
      // A structure of its own, so counts are exact.
      const s = await createTeam();
      searchTeam = s;
      districtA = await createDistrict(s.structure.id, 'Centre');
      searchAgent = await loginAs(ctx.app, s.worker.email);
      const otherAgent = await loginAs(ctx.app, s.worker2.email);
      const make = async (a: Agent, body: Record<string, unknown>) =>
        (await createPerson(a, body)).id;
      ids = {
        media: await make(searchAgent, {
          alias: 'Homme ~50 ans, parvis de la Médiathèque',
          districtId: districtA.id,
        }),
        helene: await make(searchAgent, { firstName: 'Hélène', lastName: 'Marchand' }),
        dupond: await make(otherAgent, { firstName: 'Jean', lastName: 'Dupond' }),
      };
      await searchAgent
        .post(`/api/persons/${ids.helene}/contacts`)
        .send({ occurredAt: '2026-11-02T10:00:00+01:00', channel: 'phone', outcome: 'reached' })
        .expect(201);
    });
    const found = async (query: Record<string, string | number>) => {
      const res = await searchAgent.get('/api/persons').query(query);
      expect(res.status).toBe(200);
      return res.body as { items: { id: string }[]; total: number; page: number; pageSize: number };
    };

    it('when q has no accent, then it still finds the accented name ("medi" finds "Médiathèque", "Helene" finds "Hélène")', async () => {
      expect((await found({ q: 'medi' })).items.map((p) => p.id)).toEqual([ids.media]);
      expect((await found({ q: 'Helene' })).items.map((p) => p.id)).toEqual([ids.helene]);
      expect((await found({ q: 'MÉDIATHEQUE' })).items.map((p) => p.id)).toEqual([ids.media]);
    });

    it('when q has a typo, then it still finds the person ("Dupont" finds "Dupond")', async () => {
      expect((await found({ q: 'Dupont' })).items.map((p) => p.id)).toContain(ids.dupond);
    });

    it('when q holds LIKE wildcards, then they match literally, not everything', async () => {
      expect((await found({ q: '%' })).total).toBe(0);
      expect((await found({ q: '_' })).total).toBe(0);
    });

    it('filters by status, district and referentId=me', async () => {
      expect((await found({ status: 'in_contact' })).items.map((p) => p.id)).toEqual([ids.helene]);
      expect((await found({ status: 'identified' })).total).toBe(2);
      expect((await found({ district: districtA.id })).items.map((p) => p.id)).toEqual([ids.media]);
      const mine = (await found({ referentId: 'me' })).items.map((p) => p.id).sort();
      expect(mine).toEqual([ids.media, ids.helene].sort());
    });

    it('pages results as {items,total,page,pageSize}', async () => {
      const first = await found({ pageSize: 2, page: 1 });
      const second = await found({ pageSize: 2, page: 2 });
      expect(first).toMatchObject({ total: 3, page: 1, pageSize: 2 });
      expect(first.items).toHaveLength(2);
      expect(second).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(second.items).toHaveLength(1);
      const all = [...first.items, ...second.items].map((p) => p.id).sort();
      expect(all).toEqual(Object.values(ids).sort());
    });

    it.each([
      ['status', 'lost'],
      ['district', 'north'],
      ['referentId', 'you'],
      ['page', '0'],
      ['pageSize', '1000'],
      ['page', '1e400'],
      ['page', '1000000000000000000'],
      ['q', 'Dupo\u0000nd'],
      ['sort', 'name'],
    ])('when the query has %s=%j, then 400 naming it', async (key, value) => {
      const res = await searchAgent.get('/api/persons').query({ [key]: value });
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field).join(' ')).toContain(
        key,
      );
    });

    it('when the page is far beyond the end, then 200 with no items (not a database error)', async () => {
      const res = await searchAgent.get('/api/persons').query({ page: 10000 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], total: 3, page: 10000 });
    });

    it('when a term matches more files than a page, then the pages rank the term as a whole word, at the start of a word, anywhere, then only similar, each by last activity then id, and a page past the end keeps the total', async () => {
      // Look-alike names in a structure of their own, with the tier each is expected in.
      const s = await createTeam();
      const agent = await loginAs(ctx.app, s.worker.email);
      const names: [string, 'word' | 'start' | 'inside' | 'similar'][] = [
        ['Lefevre', 'word'],
        ['Lefèvre', 'word'],
        ['Leffevre', 'similar'],
        ['Lefevres', 'start'],
        ['Lefevr', 'similar'],
        ['Lefevre', 'word'],
        ['Delefevre', 'inside'],
        ['Saint-Lefèvre', 'word'],
        ['Lefèvre', 'word'],
      ];
      const tierOf = new Map<string, number>();
      for (const [lastName, tier] of names) {
        const p = await createPerson(agent, { firstName: 'Anne', lastName });
        tierOf.set(p.id, { word: 3, start: 2, inside: 1, similar: 0 }[tier]);
      }
      // Ties in rank and last activity are broken by id: give three files the same moment.
      const rows = await testKnex()('persons')
        .where({ structure_id: s.structure.id })
        .orderBy('id')
        .select('id');
      await testKnex()('persons')
        .whereIn(
          'id',
          rows.slice(0, 3).map((r) => r.id),
        )
        .update({ last_activity_at: new Date('2026-11-20T09:00:00Z') });
      // "Delefevre" the least recently active: it comes before "Lefevr" by its rank alone.
      const delefevre = [...tierOf.keys()][names.findIndex(([n]) => n === 'Delefevre')];
      await testKnex()('persons')
        .where({ id: delefevre })
        .update({ last_activity_at: new Date('2026-11-01T09:00:00Z') });
      // The similar ones among themselves: by their word similarity (pg_trgm's, the search's).
      const { rows: facts } = await testKnex().raw(
        `SELECT id, last_activity_at, word_similarity('lefevre', search_text) AS sim
           FROM persons WHERE structure_id = ?`,
        [s.structure.id],
      );
      const expected = (facts as { id: string; last_activity_at: Date; sim: number }[])
        .sort(
          (a, b) =>
            tierOf.get(b.id)! - tierOf.get(a.id)! ||
            (tierOf.get(a.id) === 0 ? b.sim - a.sim : 0) ||
            b.last_activity_at.getTime() - a.last_activity_at.getTime() ||
            (a.id < b.id ? -1 : 1),
        )
        .map((r) => r.id);
      expect(expected).toHaveLength(names.length);
      const seen: string[] = [];
      for (let page = 1; page <= Math.ceil(expected.length / 3); page++) {
        const res = await agent.get('/api/persons').query({ q: 'lefevre', pageSize: 3, page });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(expected.length);
        seen.push(...res.body.items.map((p: { id: string }) => p.id));
      }
      expect(seen).toEqual(expected);
      // "Delefevre" holds the term inside a word and "Lefevr" is only similar, with the same word
      // similarity (0.75): the one that holds what was typed comes first.
      const ids = [...tierOf.keys()];
      const position = (name: string) => seen.indexOf(ids[names.findIndex(([n]) => n === name)]);
      expect(position('Delefevre')).toBeLessThan(position('Lefevr'));
      expect(position('Saint-Lefèvre')).toBeLessThan(position('Lefevres'));
      const past = await agent.get('/api/persons').query({ q: 'lefevre', pageSize: 3, page: 50 });
      expect(past.body).toMatchObject({ items: [], total: expected.length, totalCapped: false });
    });

    it('when a caller other than the API (a web page) searches with a NUL character, then it is dropped and the search finds the name', async () => {
      const actor = {
        id: searchTeam.worker.id,
        structureId: searchTeam.structure.id,
        role: 'worker' as const,
        partnerId: null,
        name: searchTeam.worker.name,
        email: searchTeam.worker.email,
      };
      const page = await ctx.deps.services.persons.search(
        actor,
        { q: 'Dup\u0000ond', page: 1, pageSize: 20 },
        { ip: null },
      );
      // "Dup\u0000ond" searches as "Dupond".
      expect(page.items.map((p) => p.id)).toEqual([ids.dupond]);
      expect(page.total).toBe(1);
    });

    it('when a term is searched, then anonymised files are never among the matches ("Anne" does not find "Personne anonymisée"); the list without a term still shows them', async () => {
      const own = await createTeam();
      const agent = await loginAs(ctx.app, own.worker.email);
      const anne = (await createPerson(agent, { firstName: 'Anne', lastName: 'Dubois' })).id;
      const gone = (await createPerson(agent, { firstName: 'Anne', lastName: 'Girard' })).id;
      // As retention leaves a file: its identity replaced by the neutral label.
      await testKnex()('persons').where({ id: gone }).update({
        alias: ANONYMISED_LABEL,
        first_name: null,
        last_name: null,
        anonymised_at: new Date(),
      });
      for (const q of ['Anne', 'anonymisée', 'personne']) {
        const res = await agent.get('/api/persons').query({ q });
        expect(res.status).toBe(200);
        const shown = res.body.items.map((p: { id: string }) => p.id);
        expect([q, shown.includes(gone)]).toEqual([q, false]);
        if (q === 'Anne') expect(shown).toEqual([anne]);
      }
      const all = await agent.get('/api/persons');
      expect(all.body.items.map((p: { id: string }) => p.id).sort()).toEqual([anne, gone].sort());
    });

    it('when a person of another structure matches q, then it is not found', async () => {
      await createPerson(outsider, { alias: 'Médiathèque aussi' });
      expect((await found({ q: 'mediatheque' })).items.map((p) => p.id)).toEqual([ids.media]);
    });
  });

  describe('GET and PATCH /api/persons/:id', () => {
    it('when a colleague of the structure reads it, then 200; another structure gets 404 for GET, PATCH, timeline, contacts and follow-ups', async () => {
      const p = await createPerson(worker);
      expect((await worker2.get(`/api/persons/${p.id}`)).status).toBe(200);
      expect((await manager.get(`/api/persons/${p.id}`)).status).toBe(200);
      const calls = [
        outsider.get(`/api/persons/${p.id}`),
        outsider.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'pris' }),
        outsider.get(`/api/persons/${p.id}/timeline`),
        outsider.get(`/api/persons/${p.id}/contacts`),
        outsider
          .post(`/api/persons/${p.id}/contacts`)
          .send({ occurredAt: '2026-11-02T10:00:00Z', channel: 'phone', outcome: 'reached' }),
        outsider
          .post(`/api/persons/${p.id}/follow-ups`)
          .send({ dueAt: inYears(4, '12-02T10:00:00Z'), title: 'Rappeler' }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
      const after = await worker.get(`/api/persons/${p.id}`);
      expect(after.body.alias).toBe('Personne test');
      expect(after.body.version).toBe(1);
    });

    it('when the person does not exist, then 404', async () => {
      const res = await worker.get('/api/persons/5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f');
      expect(res.status).toBe(404);
    });

    it('when the id is not a UUID, then 400 naming id', async () => {
      const res = await worker.get('/api/persons/123');
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('id');
      const patch = await worker.patch('/api/persons/abc').send({ version: 1 });
      expect(patch.status).toBe(400);
      expect(patch.body.error.details[0].field).toBe('id');
    });

    it('when patched with the current version, then 200 with the change and version + 1', async () => {
      const p = await createPerson(worker);
      const res = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 1, firstName: 'Karim', situation: 'Hébergé chez un ami' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        firstName: 'Karim',
        alias: 'Personne test',
        situation: 'Hébergé chez un ami',
        version: 2,
      });
      const again = await worker.patch(`/api/persons/${p.id}`).send({ version: 2, phone: null });
      expect(again.status).toBe(200);
      expect(again.body.version).toBe(3);
    });

    it('when the référent has left, then a change sending the same référent back is saved, and naming another leaver is still 400', async () => {
      const leaver = await createUser(team.structure.id, 'worker');
      const other = await createUser(team.structure.id, 'worker');
      const p = await createPerson(worker, { referentId: leaver.id });
      await testKnex()('users')
        .whereIn('id', [leaver.id, other.id])
        .update({ disabled_at: new Date() });
      // What the edit page sends: every field, the leaver still selected as "X (inactif)".
      const res = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 1, phone: '06 12 34 56 78', referentId: leaver.id });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        phone: '06 12 34 56 78',
        referentId: leaver.id,
        version: 2,
      });
      const toLeaver = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 2, referentId: other.id });
      expect(toLeaver.status).toBe(400);
      expect(toLeaver.body.error.details[0].field).toBe('referentId');
      const row = await testKnex()('persons').where({ id: p.id }).first();
      expect(row).toMatchObject({ referent_id: leaver.id, version: 2 });
    });

    it('when the version is stale, then 409 carrying the current person, and that read is audited once outside the rolled-back write', async () => {
      const p = await createPerson(worker);
      await worker.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'Premier' }).expect(200);
      const res = await worker2.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'Second' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('stale_version');
      expect(res.body.error.details.current).toMatchObject({ alias: 'Premier', version: 2 });
      const reads = await auditRows({ subject_id: p.id, actor_id: team.worker2.id });
      expect(reads).toHaveLength(1);
      expect(reads[0]).toMatchObject({
        action: 'person.read',
        subject_type: 'person',
        structure_id: team.structure.id,
        details: { reason: 'conflict' },
      });
    });

    it('when the file was anonymised, then 409 anonymised and the file is unchanged', async () => {
      const p = await createPerson(worker);
      await testKnex()('persons').where({ id: p.id }).update({ anonymised_at: new Date() });
      const res = await worker.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'Autre' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('anonymised');
      const row = await testKnex()('persons').where({ id: p.id }).first();
      expect(row.version).toBe(1);
    });

    it('when two editors send the same version at once, then exactly one 200 and one 409 whose details carry the version that won', async () => {
      for (let round = 0; round < 5; round += 1) {
        const p = await createPerson(worker);
        const [a, b] = await Promise.all([
          worker.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'Version A' }),
          worker2.patch(`/api/persons/${p.id}`).send({ version: 1, alias: 'Version B' }),
        ]);
        const statuses = [a.status, b.status].sort();
        expect(statuses).toEqual([200, 409]);
        const [ok, conflict] = a.status === 200 ? [a, b] : [b, a];
        expect(conflict.body.error.details.current).toMatchObject({
          version: 2,
          alias: ok.body.alias,
        });
        const stored = await worker.get(`/api/persons/${p.id}`);
        expect(stored.body).toMatchObject({ version: 2, alias: ok.body.alias });
      }
    });

    it('when a patch would remove the alias and every name, then 400 naming alias', async () => {
      const p = await createPerson(worker);
      const res = await worker.patch(`/api/persons/${p.id}`).send({ version: 1, alias: null });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('alias');
    });

    it('when a patch lacks the version or has an unknown field, then 400 naming it', async () => {
      const p = await createPerson(worker);
      const noVersion = await worker.patch(`/api/persons/${p.id}`).send({ alias: 'A' });
      expect(noVersion.status).toBe(400);
      expect(noVersion.body.error.details[0].field).toBe('version');
      const unknown = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 1, status: 'closed' });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.body.error)).toContain('status');
      const huge = await worker.patch(`/api/persons/${p.id}`).send({ version: 1e12 });
      expect(huge.status).toBe(400);
      expect(huge.body.error.details[0].field).toBe('version');
    });

    it('when closed with a reason, then status closed; clearing the reason reopens', async () => {
      const p = await createPerson(worker);
      const closed = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 1, closedReason: 'moved' });
      expect(closed.body).toMatchObject({ status: 'closed', closedReason: 'moved' });
      const reopened = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ version: 2, closedReason: null });
      expect(reopened.body).toMatchObject({ status: 'identified', closedReason: null });
    });
  });

  describe('place met', () => {
    it('when a person is created with a place, then it comes back, is searched like the alias (accents and typos aside) and changes with a PATCH', async () => {
      const p = await createPerson(worker, {
        alias: 'Homme ~40 ans',
        place: 'Sous le pont, quai de la Tannerie',
      });
      expect(p.place).toBe('Sous le pont, quai de la Tannerie');
      for (const q of ['tannerie', 'Quai de la Tanerie', 'TANNERIE']) {
        const res = await worker.get('/api/persons').query({ q });
        expect({ q, ids: res.body.items.map((i: { id: string }) => i.id) }).toEqual({
          q,
          ids: [p.id],
        });
      }
      const patched = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ place: 'Parvis de la gare', version: p.version });
      expect(patched.status).toBe(200);
      expect(patched.body.place).toBe('Parvis de la gare');
      expect((await worker.get('/api/persons').query({ q: 'tannerie' })).body.total).toBe(0);
      const cleared = await worker
        .patch(`/api/persons/${p.id}`)
        .send({ place: null, version: patched.body.version });
      expect(cleared.body.place).toBeNull();
    });

    it('when the place is too long or empty, then 400 naming place', async () => {
      for (const place of ['x'.repeat(201), '   ']) {
        const res = await worker
          .post('/api/persons')
          .send({ alias: 'A', source: 'outreach', place });
        expect(res.status).toBe(400);
        expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'place' })]);
      }
    });
  });

  it('when a worker asks for the districts, then every district of the structure in use comes whole on one page, in the list envelope', async () => {
    const team2 = await createTeam();
    const [b, a] = [
      await createDistrict(team2.structure.id, 'Monplaisir', true),
      await createDistrict(team2.structure.id, 'Justices', false),
    ];
    const res = await (await loginAs(ctx.app, team2.worker.email)).get('/api/districts');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        { id: a.id, name: 'Justices', code: null, qpv: false, archivedAt: null, version: 1 },
        { id: b.id, name: 'Monplaisir', code: null, qpv: true, archivedAt: null, version: 1 },
      ],
      total: 2,
      page: 1,
      pageSize: 2,
    });
  });

  describe('GET /api/persons/:id/timeline', () => {
    it('lists contacts and follow-ups newest first, paged', async () => {
      const p = await createPerson(worker);
      await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ occurredAt: '2026-11-01T10:00:00Z', channel: 'street', outcome: 'not_reached' })
        .expect(201);
      await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ occurredAt: '2026-11-03T10:00:00Z', channel: 'street', outcome: 'reached' })
        .expect(201);
      await worker
        .post(`/api/persons/${p.id}/follow-ups`)
        .send({ dueAt: '2026-11-10T10:00:00Z', title: 'Accompagner à la CAF', allowPast: true })
        .expect(201);
      const res = await worker2.get(`/api/persons/${p.id}/timeline`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 20 });
      const at = res.body.items.map((i: { at: string }) => i.at);
      expect(at).toEqual([...at].sort().reverse());
      expect(res.body.items.map((i: { type: string }) => i.type)).toEqual([
        'follow_up',
        'contact',
        'contact',
      ]);
      const page2 = await worker
        .get(`/api/persons/${p.id}/timeline`)
        .query({ pageSize: 2, page: 2 });
      expect(page2.body.items).toHaveLength(1);
    });
  });

  it('when nobody is signed in, then every person endpoint is 401', async () => {
    const id = '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f';
    const anon = request(ctx.app);
    const calls = [
      anon.get('/api/persons'),
      anon.post('/api/persons').send({ alias: 'A', source: 'outreach' }),
      anon.get(`/api/persons/${id}`),
      anon.patch(`/api/persons/${id}`).send({ version: 1 }),
      anon.get(`/api/persons/${id}/timeline`),
    ];
    for (const res of await Promise.all(calls)) expect(res.status).toBe(401);
  });
});
