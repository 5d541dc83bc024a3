import { escalatesToSql } from '../../../server/features/teams/team-escalation';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';

/** Who a user's escalations go to (the team service's managersOf) and its SQL twin agree. */
describe('who a user’s escalations go to', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('the team service’s managersOf and escalatesToSql name the same managers, whatever the teams', async () => {
    const { structure: s, worker, worker2, manager: lead } = await createTeam();
    const k = testKnex();
    const user = (role: 'worker' | 'manager') => createUser(s.id, role);
    const [inTwo, underLeaver, underWorker, alone, ledByPeer] = await Promise.all([
      user('worker'),
      user('worker'),
      user('worker'),
      user('worker'),
      user('manager'),
    ]);
    const [lead2, leaver, other] = await Promise.all([
      user('manager'),
      user('manager'),
      user('manager'),
    ]);
    const workerLead = await user('worker');
    await k('users').where({ id: leaver.id }).update({ disabled_at: new Date() });
    // A manager of another structure, who never hears of this one.
    const elsewhere = await createTeam();
    const teams = await k('teams')
      .insert(
        ['A', 'B', 'C', 'D', 'E'].map((name) => ({ structure_id: s.id, name: `Équipe ${name}` })),
      )
      .returning('id');
    const [a, b, c, d, e] = teams.map((t: { id: string }) => t.id);
    await k('team_members').insert([
      // A: led by an active manager.
      { team_id: a, user_id: worker.id, is_lead: false },
      { team_id: a, user_id: inTwo.id, is_lead: false },
      { team_id: a, user_id: lead.id, is_lead: true },
      // B: led by a disabled manager only.
      { team_id: b, user_id: underLeaver.id, is_lead: false },
      { team_id: b, user_id: leaver.id, is_lead: true },
      // C: "led" by a worker.
      { team_id: c, user_id: underWorker.id, is_lead: false },
      { team_id: c, user_id: workerLead.id, is_lead: true },
      // D: a second team of one of A's members, another lead.
      { team_id: d, user_id: inTwo.id, is_lead: false },
      { team_id: d, user_id: lead2.id, is_lead: true },
      // E: a manager working in a team the lead of A leads too.
      { team_id: e, user_id: ledByPeer.id, is_lead: false },
      { team_id: e, user_id: lead.id, is_lead: true },
    ]);

    const candidates = [lead, lead2, leaver, other, ledByPeer, workerLead, elsewhere.manager];
    const assignees = [
      worker,
      worker2,
      inTwo,
      underLeaver,
      underWorker,
      alone,
      ledByPeer,
      lead,
      lead2,
    ];
    for (const assignee of assignees) {
      const service = (await ctx.deps.services.teams.managersOf(k, s.id, assignee.id))
        .map((m) => m.id)
        .sort();
      const { rows } = await k.raw<{ rows: { id: string }[] }>(
        `SELECT c.id FROM users c
          WHERE c.id = ANY(CAST(:candidates AS uuid[])) AND ${escalatesToSql(':s', ':assignee', 'c.id')}`,
        { candidates: candidates.map((m) => m.id), s: s.id, assignee: assignee.id },
      );
      expect({ assignee: assignee.name, to: rows.map((r) => r.id).sort() }).toEqual({
        assignee: assignee.name,
        to: service,
      });
    }
    // The cases the rule tells apart, as the service answers them.
    const to = async (assigneeId: string) =>
      (await ctx.deps.services.teams.managersOf(k, s.id, assigneeId)).map((m) => m.id).sort();
    expect(await to(worker.id)).toEqual([lead.id]);
    expect(await to(inTwo.id)).toEqual([lead.id, lead2.id].sort());
    expect(await to(ledByPeer.id)).toEqual([lead.id]);
    for (const fallback of [underLeaver, underWorker, alone])
      expect(await to(fallback.id)).toEqual([lead.id, lead2.id, other.id, ledByPeer.id].sort());
    expect(await to(lead.id)).toEqual([lead2.id, other.id, ledByPeer.id].sort());
  });
});
