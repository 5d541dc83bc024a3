import type { Knex } from 'knex';

export interface TeamManager {
  id: string;
  name: string;
}

/**
 * Who an escalation about a user's work goes to: the active managers leading one of the teams
 * that user belongs to, in the same structure, the user aside. Kept to this one question so the
 * teams service can take it over (escalations follow teams, spec section 1).
 */
export interface TeamManagerLookup {
  leadersOf(
    db: Knex | Knex.Transaction,
    structureId: string,
    userId: string,
  ): Promise<TeamManager[]>;
}

export const teamManagerRepository: TeamManagerLookup = {
  async leadersOf(db, structureId, userId) {
    return db('team_members as member')
      .join('teams as t', 't.id', 'member.team_id')
      .join('team_members as lead', function () {
        this.on('lead.team_id', '=', 't.id').andOn('lead.is_lead', '=', db.raw('true'));
      })
      .join('users as u', 'u.id', 'lead.user_id')
      .where({ 'member.user_id': userId, 't.structure_id': structureId })
      .andWhere({ 'u.structure_id': structureId, 'u.role': 'manager' })
      .whereNull('u.disabled_at')
      .andWhereNot('u.id', userId)
      .distinct('u.id', 'u.name')
      .orderBy('u.name');
  },
};
