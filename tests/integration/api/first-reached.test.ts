import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createPerson, type Agent } from './helpers';

/**
 * persons.first_reached_at is derived from contacts (triggers of migration 20261208500000): it
 * must equal min(occurred_at) of the person's reached contacts (reached, appointment set), or
 * NULL without any, after every way a contact is written, moved, changed or removed.
 */
async function stored(personId: string): Promise<string | null> {
  const row = await testKnex()('persons').where({ id: personId }).first('first_reached_at');
  return row.first_reached_at ? new Date(row.first_reached_at).toISOString() : null;
}
async function truth(personId: string): Promise<string | null> {
  const row = await testKnex()('contacts')
    .where({ person_id: personId })
    .whereIn('outcome', ['reached', 'appointment_set'])
    .min<{ min: Date | null }>('occurred_at as min')
    .first();
  return row?.min ? new Date(row.min).toISOString() : null;
}

describe('a person’s first successful contact, kept on the person', () => {
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

  const log = (personId: string, occurredAt: string, outcome = 'reached') =>
    worker
      .post(`/api/persons/${personId}/contacts`)
      .send({ occurredAt, channel: 'street', outcome })
      .expect(201);
  const contactAt = async (personId: string, occurredAt: string) =>
    (
      await testKnex()('contacts')
        .where({ person_id: personId, occurred_at: occurredAt })
        .first('id')
    ).id as string;

  it('when contacts are logged, in any order, then it is the earliest reached one; none, NULL', async () => {
    const p = await createPerson(worker);
    await log(p.id, '2026-09-01T10:00:00Z', 'not_reached');
    await log(p.id, '2026-09-02T10:00:00Z', 'refused');
    expect(await stored(p.id)).toBeNull();
    await log(p.id, '2026-10-02T10:00:00Z');
    expect(await stored(p.id)).toBe('2026-10-02T10:00:00.000Z');
    await log(p.id, '2026-11-15T08:30:00Z', 'appointment_set');
    expect(await stored(p.id)).toBe('2026-10-02T10:00:00.000Z');
    // An older reached contact logged afterwards moves it back.
    await log(p.id, '2026-09-20T10:00:00Z', 'appointment_set');
    expect(await stored(p.id)).toBe('2026-09-20T10:00:00.000Z');
    expect(await stored(p.id)).toBe(await truth(p.id));
  });

  it('when one statement writes contacts of several persons, then each gets its own earliest', async () => {
    const [a, b] = [await createPerson(worker), await createPerson(worker)];
    await testKnex()('contacts').insert(
      (
        [
          [a.id, '2026-03-01T10:00:00Z', 'not_reached'],
          [a.id, '2026-04-01T10:00:00Z', 'reached'],
          [a.id, '2026-05-01T10:00:00Z', 'reached'],
          [b.id, '2026-04-15T10:00:00Z', 'appointment_set'],
        ] as const
      ).map(([person_id, occurred_at, outcome]) => ({
        structure_id: team.structure.id,
        person_id,
        occurred_at,
        channel: 'phone',
        outcome,
      })),
    );
    expect(await stored(a.id)).toBe('2026-04-01T10:00:00.000Z');
    expect(await stored(b.id)).toBe('2026-04-15T10:00:00.000Z');
  });

  it('when the earliest is deleted, moved in time or changes outcome, then it is recomputed', async () => {
    const p = await createPerson(worker);
    await log(p.id, '2026-06-01T10:00:00Z');
    await log(p.id, '2026-07-01T10:00:00Z');
    await log(p.id, '2026-05-01T10:00:00Z', 'not_reached');
    const june = await contactAt(p.id, '2026-06-01T10:00:00Z');
    await testKnex()('contacts')
      .where({ id: june })
      .update({ occurred_at: '2026-08-01T10:00:00Z' });
    expect(await stored(p.id)).toBe('2026-07-01T10:00:00.000Z');
    // A failed contact becoming reached, then reached becoming failed.
    const may = await contactAt(p.id, '2026-05-01T10:00:00Z');
    await testKnex()('contacts').where({ id: may }).update({ outcome: 'reached' });
    expect(await stored(p.id)).toBe('2026-05-01T10:00:00.000Z');
    await testKnex()('contacts').where({ id: may }).update({ outcome: 'refused' });
    expect(await stored(p.id)).toBe('2026-07-01T10:00:00.000Z');
    await testKnex()('contacts')
      .where({ person_id: p.id, occurred_at: '2026-07-01T10:00:00Z' })
      .delete();
    expect(await stored(p.id)).toBe('2026-08-01T10:00:00.000Z');
    await testKnex()('contacts')
      .where({ person_id: p.id })
      .whereIn('outcome', ['reached'])
      .delete();
    expect(await stored(p.id)).toBeNull();
    expect(await truth(p.id)).toBeNull();
  });

  it('when a contact is moved to another person, then both are recomputed', async () => {
    const [a, b] = [await createPerson(worker), await createPerson(worker)];
    await log(a.id, '2026-02-01T10:00:00Z');
    await log(a.id, '2026-03-01T10:00:00Z');
    await log(b.id, '2026-04-01T10:00:00Z');
    await testKnex()('contacts')
      .where({ id: await contactAt(a.id, '2026-02-01T10:00:00Z') })
      .update({ person_id: b.id });
    expect(await stored(a.id)).toBe('2026-03-01T10:00:00.000Z');
    expect(await stored(b.id)).toBe('2026-02-01T10:00:00.000Z');
  });

  it('when a file is anonymised, then it keeps its first successful contact', async () => {
    const p = await createPerson(worker);
    await log(p.id, '2026-08-01T10:00:00Z');
    await testKnex()('contacts')
      .where({ person_id: p.id })
      .update({ summary_enc: null, private_note_enc: null });
    expect(await stored(p.id)).toBe('2026-08-01T10:00:00.000Z');
  });

  it('when two files are merged, then the kept one has the earliest reached contact of both', async () => {
    const kept = await createPerson(worker, { alias: 'Gardé' });
    const merged = await createPerson(worker, { alias: 'Fusionné' });
    await log(kept.id, '2026-10-01T10:00:00Z');
    await log(merged.id, '2026-04-20T10:00:00Z');
    const version = async (id: string) =>
      (await testKnex()('persons').where({ id }).first('version')).version;
    const res = await manager.post(`/api/persons/${merged.id}/merge`).send({
      intoId: kept.id,
      version: await version(merged.id),
      intoVersion: await version(kept.id),
    });
    expect(res.status).toBe(200);
    expect(await stored(kept.id)).toBe('2026-04-20T10:00:00.000Z');
    expect(await stored(kept.id)).toBe(await truth(kept.id));
  });
});
