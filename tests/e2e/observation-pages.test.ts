import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createDistrict, createTeam } from '../setup/factories';
import { inputValue, textOf } from './html';

/** Saturday 28 November 2026, 23:00 in Paris. */
const NOW = '2026-11-28T22:00:00.000Z';

/**
 * The observation dashboard as HTML: the observer's home and the managers' page, charts as
 * accessible SVG with their tables, "< 5" as such, the period picker and the CSV link.
 */
describe('observation dashboard pages', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    team = await createTeam();
    const north = await createDistrict(team.structure.id, 'Nord <b>gras</b>', true);
    await createDistrict(team.structure.id, 'Sud', false);
    // Seven people in Nord this year, two without a district.
    await testKnex()('persons').insert(
      Array.from({ length: 9 }, (_, i) => ({
        structure_id: team.structure.id,
        alias: `Personne ${i}`,
        source: 'outreach',
        district_id: i < 7 ? north.id : null,
        created_at: '2026-06-01T10:00:00Z',
      })),
    );
  });
  afterAll(async () => ctx.close());

  it('when an observer signs in, then the home is the dashboard of the last twelve months, with charts as images and their tables', async () => {
    const observer = await loginAs(ctx.app, team.observer.email);
    const res = await observer.get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Observation sociale</h1>');
    expect(res.text).toContain('Du samedi 29 novembre 2025 au samedi 28 novembre 2026');
    // How fresh the numbers are: computed at this read (no snapshot yet), Paris time.
    expect(res.text).toContain('Chiffres calculés le 28 novembre 2026 à 23:00');
    // Every chart is an image named by its title and described by its numbers.
    const charts = res.text.match(/<svg[^>]*role="img"[^>]*>/g) ?? [];
    expect(charts.length).toBe(5);
    for (const svg of charts)
      expect(svg).toMatch(/aria-labelledby="chart-[a-z]+-title chart-[a-z]+-desc"/);
    expect(res.text).toContain('<title id="chart-personnes-title">');
    expect(res.text).toMatch(
      /<desc id="chart-personnes-desc">Ensemble de la structure : repérées 9, jointes &lt; 5\.<\/desc>/,
    );
    // Five tables, one per chart, with "< 5" written out.
    expect((res.text.match(/<table tabindex="0">/g) ?? []).length).toBe(5);
    expect(res.text).toContain('<td class="av-num">&lt; 5</td>');
    expect(res.text).toContain('href="/api/observation.csv?from=2025-11-29&amp;to=2026-11-28"');
    expect(res.text).not.toContain('href="/personnes"');
  });

  it('when a grouping is chosen, then each row gets its bars and the detailed table, labels escaped', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const res = await manager.get('/observation?from=2026-01-01&to=2026-11-28&by=district');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/observation" aria-current="page"');
    expect(res.text).toContain('Détail par quartier');
    expect(res.text).toContain('Nord &lt;b>gras&lt;/b>');
    expect(res.text).not.toContain('<b>gras</b>');
    expect(res.text).toContain('<option value="district" selected>');
    expect(res.text).toContain('value="2026-01-01"');
    expect(res.text).toContain('by=district');
  });

  it('when the period cannot be read, then a 400 page says why in French and keeps what was typed', async () => {
    const observer = await loginAs(ctx.app, team.observer.email);
    const res = await observer.get('/?from=2026-02-31&by=district');
    expect(res.status).toBe(400);
    expect(res.text).toContain('<a href="#from">Du : La date de début doit être une date');
    expect(res.text).toContain('value="2026-02-31"');
    const long = await observer.get('/observation?from=2001-01-01');
    expect(long.status).toBe(400);
    expect(long.text).toContain('moins de dix ans avant la date de fin');
    const empty = await observer.get('/?from=&to=&by=');
    expect(empty.status).toBe(200);
  });

  it('when the end comes before the start, then 400: the summary, focused, links to the end field, marked invalid and described by its message, and the title says "Erreur"', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const res = await manager.get('/observation?from=2026-06-01&to=2026-05-01');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<title>Erreur — Observation sociale — /);
    const message = 'La date de fin doit être une date (jj/mm/aaaa), pas avant la date de début.';
    expect(res.text).toMatch(
      /<div class="[^"]*av-error-summary" role="alert" tabindex="-1" autofocus>/,
    );
    expect(res.text).toContain(`<a href="#to">Au (inclus) : ${message}</a>`);
    expect(res.text).toMatch(
      /<input[^>]*id="to"[^>]*aria-invalid="true"[^>]*aria-describedby="to-error"/,
    );
    expect(textOf(res.text, 'to-error')).toBe(message);
    // The start was right: not marked, and both kept as typed.
    expect(res.text).not.toMatch(/<input[^>]*id="from"[^>]*aria-invalid/);
    expect(inputValue(res.text, 'from')).toBe('2026-06-01');
    expect(inputValue(res.text, 'to')).toBe('2026-05-01');
  });

  it('when a worker or an admin asks for the dashboard, then 403', async () => {
    for (const user of [team.worker, team.admin]) {
      const agent = await loginAs(ctx.app, user.email);
      expect((await agent.get('/observation')).status).toBe(403);
    }
  });
});
