import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** The names listed on a persons page, in order. */
const listed = (html: string) =>
  [
    ...html.matchAll(
      /<p class="fr-text--bold fr-mb-1v"><a href="\/personnes\/[^"]+">([^<]+)<\/a>/g,
    ),
  ].map((m) => m[1]);

/**
 * The persons list: search and filters are sent by POST and kept in the session, so a name
 * typed in the search box never appears in an address; only the page number does.
 */
describe('persons list over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let colleague: Agent;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    const s = team.structure.id;
    const [, dame] = await testKnex()('persons')
      .insert([
        {
          structure_id: s,
          alias: 'Homme parvis médiathèque',
          source: 'outreach',
          referent_id: team.worker.id,
        },
        {
          structure_id: s,
          alias: 'Dame de la gare',
          source: 'outreach',
          referent_id: team.worker2.id,
        },
      ])
      .returning('id');
    // A contact that reached her: "En contact".
    await testKnex()('contacts').insert({
      structure_id: s,
      person_id: dame.id,
      author_id: team.worker2.id,
      occurred_at: new Date(),
      channel: 'street',
      outcome: 'reached',
    });
    await testKnex()('persons').insert(
      Array.from({ length: 25 }, (_, i) => ({
        structure_id: s,
        alias: `Lot n°${String(i + 1).padStart(2, '0')}`,
        source: 'outreach',
        referent_id: team.worker.id,
      })),
    );
    worker = await loginAs(ctx.app, team.worker.email);
    colleague = await loginAs(ctx.app, team.worker2.email);
  });
  afterAll(async () => ctx.close());

  async function search(agent: Agent, form: Record<string, string>) {
    const page = await agent.get('/personnes');
    return agent
      .post('/personnes')
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when a worker searches, then the search is kept in the session and never reaches an address', async () => {
    const res = await search(worker, { q: 'mediateque' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/personnes');
    const page = await worker.get('/personnes');
    expect(page.text).toContain('1 personne trouvée');
    expect(listed(page.text)).toEqual(['Homme parvis médiathèque']);
    expect(inputValue(page.text, 'q')).toBe('mediateque');
    // Neither a link nor a form of the page carries the term.
    expect(page.text).not.toMatch(/(href|action)="[^"]*mediateque/);
    // The filters belong to this session: the colleague's list is whole.
    expect((await colleague.get('/personnes')).text).toContain('27 personnes trouvées');
  });

  it('when the status filter is "En contact", then only the people reached are listed', async () => {
    await search(worker, { statut: 'in_contact' });
    const page = await worker.get('/personnes');
    expect(listed(page.text)).toEqual(['Dame de la gare']);
    expect(page.text).toMatch(/<option value="in_contact" selected/);
  });

  it('when "Dont je suis référent·e" is ticked, then only the worker’s own people are listed', async () => {
    await search(colleague, { mes: '1' });
    const page = await colleague.get('/personnes');
    expect(listed(page.text)).toEqual(['Dame de la gare']);
    expect(page.text).toMatch(/id="mes"[^>]*checked/);
  });

  it('when more people match than a page holds, then page links carry the page number only and keep the filters', async () => {
    await search(worker, { mes: '1' });
    const first = await worker.get('/personnes');
    expect(first.text).toContain('26 personnes trouvées');
    expect(listed(first.text)).toHaveLength(20);
    expect(first.text).toContain('href="/personnes?page=2"');
    const second = await worker.get('/personnes?page=2');
    expect(second.status).toBe(200);
    expect(listed(second.text)).toHaveLength(6);
    expect(listed(second.text)).not.toContain('Dame de la gare');
    expect(second.text).toContain('href="/personnes"');
    expect(second.text).toContain('2 / 2');
  });

  it('when the filters are cleared, then everyone is listed again', async () => {
    await search(worker, { q: 'gare', statut: 'in_contact' });
    expect((await worker.get('/personnes')).text).toContain('Effacer les filtres');
    const res = await search(worker, { action: 'effacer' });
    expect(res.status).toBe(303);
    const page = await worker.get('/personnes');
    expect(page.text).toContain('27 personnes trouvées');
    expect(page.text).not.toContain('Effacer les filtres');
  });

  it('when the search is longer than 100 characters, then the list comes back with the message by the field and what was typed', async () => {
    await search(worker, { q: 'Lot' });
    const long = 'x'.repeat(101);
    const res = await search(worker, { q: long, statut: 'identified' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<p id="q-error" class="fr-error-text">Saisissez 100 caractères au plus (101 saisis)</p>',
    );
    expect(res.text).toMatch(/id="q"[^>]*aria-invalid="true"/);
    expect(res.text).toMatch(/id="q"[^>]*maxlength="100"|maxlength="100"[^>]*id="q"/);
    expect(inputValue(res.text, 'q')).toBe(long);
    // Still the list page (the last valid search), not an error page.
    expect(res.text).toContain('<h1>Personnes</h1>');
    expect(res.text).toContain('25 personnes trouvées');
    // The refused search replaced nothing.
    expect(inputValue((await worker.get('/personnes')).text, 'q')).toBe('Lot');
  });

  it('when an address carries a search or another parameter, then the list comes back with a word by the search field', async () => {
    await search(worker, { mes: '1' });
    for (const query of ['q=Dupont', 'statut=closed', 'page=1&tri=nom']) {
      const res = await worker.get(`/personnes?${query}`);
      // The filters in force are shown as they are.
      expect(res.text).toMatch(/id="mes"[^>]*checked/);
      expect(res.text).toContain('26 personnes trouvées');
      expect(`${query} ${res.status}`).toBe(`${query} 400`);
      expect(res.text).toContain('<h1>Personnes</h1>');
      expect(res.text).toContain('id="q-error"');
      expect(res.text).toContain('Cette adresse de recherche n’est plus valable');
      expect(res.text).not.toContain('Dupont');
    }
  });
});
