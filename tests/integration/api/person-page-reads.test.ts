import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { capture } from '../../setup/plans';
import { createPerson } from './helpers';

/**
 * A person's page is one answer made of several reads (the file, its timeline, its rights…):
 * the file's scoped read answers for the others, and the footer's accessibility level comes
 * with the session's user read. Outside the structure, every read still answers 404.
 */
describe("the person page's reads", () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('when a worker opens a file, then the person is checked in scope once and the structure is not read again for the footer', async () => {
    const team = await createTeam();
    await testKnex()('structures')
      .where({ id: team.structure.id })
      .update({
        settings: testKnex().raw(
          `jsonb_set(coalesce(settings, '{}'::jsonb), '{accessibilityLevel}', '"partiellement_conforme"')`,
        ),
      });
    const worker = await loginAs(ctx.app, team.worker.email);
    const { id } = await createPerson(worker);
    const dueAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    for (const title of ['Premier suivi', 'Second suivi'])
      expect(
        (await worker.post(`/api/persons/${id}/follow-ups`).send({ dueAt, title })).status,
      ).toBe(201);

    const sent = await capture(
      ctx.deps.knex,
      /./,
      () => worker.get(`/personnes/${id}`).set('accept', 'text/html'),
      (res) => {
        expect(res.status).toBe(200);
        // The level of the worker's structure, as its settings say.
        expect(res.text).toContain('partiellement conforme');
        expect(res.text).toContain('Premier suivi');
        expect(res.text).toContain('Second suivi');
      },
    );
    const sql = sent.map((q) => q.sql);
    // Only the file's read names the person by its id and structure; the timeline's and the
    // rights' scope checks rely on it.
    expect(sql.filter((s) => /^select "id" from "persons"/.test(s))).toEqual([]);
    // The structure's settings came with the session's user read.
    expect(sql.filter((s) => /from "structures"/.test(s) && !/"sessions"/.test(s))).toEqual([]);
    // Every read is still audited, in one insert.
    expect(sql.filter((s) => /^insert into "audit_events"/.test(s))).toHaveLength(1);
    // The open follow-ups fit on one page: that page gives their number, nothing counts them.
    expect(sql.filter((s) => /^select count\("f"\."id"\)/.test(s))).toEqual([]);
  });

  it("when a worker asks for another structure's file, its timeline or its rights, then each answers 404", async () => {
    const [mine, other] = [await createTeam(), await createTeam()];
    const { id } = await createPerson(await loginAs(ctx.app, mine.worker.email));
    const stranger = await loginAs(ctx.app, other.worker.email);
    expect((await stranger.get(`/personnes/${id}`).set('accept', 'text/html')).status).toBe(404);
    for (const path of [`/api/persons/${id}/timeline`, `/api/persons/${id}/rights`])
      expect((await stranger.get(path)).status).toBe(404);
  });
});
