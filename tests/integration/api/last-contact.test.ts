import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createPerson, type Agent } from './helpers';

/**
 * persons.last_contact_at is derived from contacts (triggers of migration 20261208300000): it
 * must equal max(occurred_at) of the person's contacts, or NULL without any, after every way a
 * contact is written, moved, changed or removed.
 */
async function stored(personId: string): Promise<string | null> {
  const row = await testKnex()('persons').where({ id: personId }).first('last_contact_at');
  return row.last_contact_at ? new Date(row.last_contact_at).toISOString() : null;
}
async function truth(personId: string): Promise<string | null> {
  const row = await testKnex()('contacts')
    .where({ person_id: personId })
    .max<{ max: Date | null }>('occurred_at as max')
    .first();
  return row?.max ? new Date(row.max).toISOString() : null;
}

describe('a person’s last contact, kept on the person', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    [worker, manager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
    ]);
  });
  afterAll(() => ctx.close());

  const log = (personId: string, occurredAt: string) =>
    worker
      .post(`/api/persons/${personId}/contacts`)
      .send({ occurredAt, channel: 'street', outcome: 'not_reached' })
      .expect(201);

  it('when contacts are logged, in any order, then it is the latest of them; none, NULL', async () => {
    const p = await createPerson(worker);
    expect(await stored(p.id)).toBeNull();
    await log(p.id, '2026-10-02T10:00:00Z');
    expect(await stored(p.id)).toBe('2026-10-02T10:00:00.000Z');
    await log(p.id, '2026-11-15T08:30:00Z');
    // An older contact logged afterwards does not move it back.
    await log(p.id, '2026-09-01T10:00:00Z');
    expect(await stored(p.id)).toBe('2026-11-15T08:30:00.000Z');
    expect(await stored(p.id)).toBe(await truth(p.id));
  });

  it('when one statement writes contacts of several persons, then each gets its own latest', async () => {
    const [a, b] = [await createPerson(worker), await createPerson(worker)];
    await testKnex()('contacts').insert(
      [
        [a.id, '2026-03-01T10:00:00Z'],
        [a.id, '2026-05-01T10:00:00Z'],
        [b.id, '2026-04-01T10:00:00Z'],
      ].map(([person_id, occurred_at]) => ({
        structure_id: team.structure.id,
        person_id,
        occurred_at,
        channel: 'phone',
        outcome: 'reached',
      })),
    );
    expect(await stored(a.id)).toBe('2026-05-01T10:00:00.000Z');
    expect(await stored(b.id)).toBe('2026-04-01T10:00:00.000Z');
  });

  it('when the latest contact is deleted or moved in time, then it is recomputed from those left', async () => {
    const p = await createPerson(worker);
    await log(p.id, '2026-06-01T10:00:00Z');
    await log(p.id, '2026-07-01T10:00:00Z');
    const latest = await testKnex()('contacts')
      .where({ person_id: p.id, occurred_at: '2026-07-01T10:00:00Z' })
      .first('id');
    await testKnex()('contacts')
      .where({ id: latest.id })
      .update({ occurred_at: '2026-05-01T10:00:00Z' });
    expect(await stored(p.id)).toBe('2026-06-01T10:00:00.000Z');
    await testKnex()('contacts')
      .where({ person_id: p.id, occurred_at: '2026-06-01T10:00:00Z' })
      .delete();
    expect(await stored(p.id)).toBe('2026-05-01T10:00:00.000Z');
    await testKnex()('contacts').where({ person_id: p.id }).delete();
    expect(await stored(p.id)).toBeNull();
  });

  it('when a file is anonymised, then its contacts lose their notes and it keeps its last contact', async () => {
    const p = await createPerson(worker);
    await log(p.id, '2026-08-01T10:00:00Z');
    // What the retention run does to the contacts of a file it anonymises.
    await testKnex()('contacts')
      .where({ person_id: p.id })
      .update({ summary_enc: null, private_note_enc: null });
    expect(await stored(p.id)).toBe('2026-08-01T10:00:00.000Z');
  });

  it('when two files are merged, then the kept one has the latest contact of both', async () => {
    const kept = await createPerson(worker, { alias: 'Gardé' });
    const merged = await createPerson(worker, { alias: 'Fusionné' });
    await log(kept.id, '2026-04-01T10:00:00Z');
    await log(merged.id, '2026-10-20T10:00:00Z');
    const version = async (id: string) =>
      (await testKnex()('persons').where({ id }).first('version')).version;
    const res = await manager.post(`/api/persons/${merged.id}/merge`).send({
      intoId: kept.id,
      version: await version(merged.id),
      intoVersion: await version(kept.id),
    });
    expect(res.status).toBe(200);
    expect(await stored(kept.id)).toBe('2026-10-20T10:00:00.000Z');
    expect(await stored(kept.id)).toBe(await truth(kept.id));
  });
});
