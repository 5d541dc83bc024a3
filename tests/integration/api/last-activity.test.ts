import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createPerson, type Agent } from './helpers';

/**
 * A file's last activity is the app's clock, as every rule that reads it is: creating and
 * editing a file stamp it from the injected clock, never from the database's, and never move it
 * back. (The database's clock once stamped creations and edits, so a test with a fixed clock
 * saw the real date instead, and failed once the real date passed its own.) The clocks here are
 * years from the real date on both sides.
 */
describe('a person’s last activity', () => {
  const clock = fixedClock('2025-03-10T09:00:00Z');
  let ctx: TestContext;
  let worker: Agent;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    const team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
  });
  afterAll(() => ctx.close());

  const lastActivity = async (id: string) =>
    (
      (await testKnex()('persons').where({ id }).first('last_activity_at')).last_activity_at as Date
    ).toISOString();

  it('when a file is created and edited at fixed clocks, then its last activity follows the clock, never back', async () => {
    clock.set('2025-03-10T09:00:00Z');
    const p = await createPerson(worker, { alias: 'Horloge' });
    expect(await lastActivity(p.id)).toBe('2025-03-10T09:00:00.000Z');

    clock.set('2031-06-01T08:00:00Z');
    const edited = await worker
      .patch(`/api/persons/${p.id}`)
      .send({ version: p.version, place: 'Gare' });
    expect(edited.status).toBe(200);
    expect(await lastActivity(p.id)).toBe('2031-06-01T08:00:00.000Z');

    // A write stamped earlier (writes may commit out of order) leaves it where it is.
    clock.set('2031-05-01T08:00:00Z');
    const again = await worker
      .patch(`/api/persons/${p.id}`)
      .send({ version: edited.body.version, place: 'Parc' });
    expect(again.status).toBe(200);
    expect(await lastActivity(p.id)).toBe('2031-06-01T08:00:00.000Z');
  });
});
