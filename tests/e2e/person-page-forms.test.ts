import { toParisLocalInput } from '../../server/web/format';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** Tomorrow at this Paris time, as a datetime-local field holds it. */
const tomorrowAt = (hhmm: string) =>
  `${toParisLocalInput(new Date(Date.now() + 24 * 3600 * 1000)).slice(0, 10)}T${hhmm}`;

/** The forms of the person file over HTTP: contact, plan, reschedule, complete. */
describe('person file forms over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    personId = (
      await worker.post('/api/persons').send({ alias: 'Dame au vélo', source: 'outreach' })
    ).body.id;
  });
  afterAll(async () => ctx.close());

  async function plan(title: string): Promise<string> {
    const res = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ title, dueAt: new Date(Date.now() + 48 * 3600 * 1000).toISOString() });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function post(agent: Agent, path: string, form: Record<string, string>) {
    const page = await agent.get(`/personnes/${personId}`);
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when "Reporter" is sent with an empty date, then only the date error shows, next to the date field', async () => {
    const id = await plan('Appeler la CAF');
    const res = await post(worker, `/suivis/${id}`, {
      action: 'reporter',
      retour: `/personnes/${personId}`,
      dueAt: '',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient une erreur');
    expect(res.text).toContain(
      `<p id="report-${id}-dueAt-error" class="fr-error-text">Indiquez la nouvelle date et l’heure du suivi</p>`,
    );
    expect(res.text).not.toContain('Cette valeur n’est pas valide');
    const row = await testKnex()('follow_ups').where({ id }).first();
    expect(row.status).toBe('open');
  });
});
