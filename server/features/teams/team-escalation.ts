/**
 * `managersOf` (the team service: who a user's escalations go to) in SQL, for the daily digest's
 * escalation line: true when `manager` is among them for `assignee` in `structure`. They are the
 * active managers leading a team the assignee belongs to (or leads); an assignee in no team led
 * by one escalates to every active manager of the structure; never the assignee themself. Each
 * argument is an SQL expression (a column or a named binding).
 * `tests/integration/api/team-escalation.test.ts` checks that both answer the same.
 */
export const escalatesToSql = (structure: string, assignee: string, manager: string) => {
  const ledBy = (lead: string) => `SELECT 1 FROM team_members mine
        JOIN teams t ON t.id = mine.team_id AND t.structure_id = ${structure}
        JOIN team_members lead ON lead.team_id = mine.team_id AND lead.is_lead
        JOIN users l ON l.id = lead.user_id AND l.structure_id = ${structure}
         AND l.role = 'manager' AND l.disabled_at IS NULL AND l.id <> ${assignee}
       WHERE mine.user_id = ${assignee} AND ${lead}`;
  return `EXISTS (SELECT 1 FROM users m
     WHERE m.id = ${manager} AND m.structure_id = ${structure} AND m.role = 'manager'
       AND m.disabled_at IS NULL AND m.id <> ${assignee}
       AND (EXISTS (${ledBy('l.id = m.id')}) OR NOT EXISTS (${ledBy('true')})))`;
};
