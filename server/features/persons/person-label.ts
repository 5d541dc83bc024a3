/**
 * How a person is named on screen, the one place this rule lives: the name, else the alias. Staff
 * see the alias in brackets after a name too; a partner sees only one of them (the referral
 * minimum). A file with neither (anonymised) gets a placeholder. The SQL twin gives the same
 * text in queries that list many rows.
 */
export type LabelAudience = 'staff' | 'partner';

const NO_NAME = 'Personne sans nom';

/**
 * The person's own name (first and last, whichever are known), or null: what may be written to
 * the person, as on a letter, where the alias (a description for staff) never goes.
 */
export function personName(p: { firstName: string | null; lastName: string | null }) {
  const name = [p.firstName, p.lastName]
    .map((s) => s?.trim())
    .filter(Boolean)
    .join(' ');
  return name || null;
}

export function personLabel(
  p: { alias: string | null; firstName: string | null; lastName: string | null },
  audience: LabelAudience = 'staff',
): string {
  const name = personName(p);
  if (audience === 'staff' && p.alias && name) return `${name} (${p.alias})`;
  return name || p.alias || NO_NAME;
}

/** personLabel in SQL over the persons table aliased `a`. */
export function personLabelSql(a: string, audience: LabelAudience = 'staff'): string {
  const name = `nullif(concat_ws(' ', nullif(trim(${a}.first_name), ''), nullif(trim(${a}.last_name), '')), '')`;
  const bare = `coalesce(${name}, ${a}.alias, '${NO_NAME}')`;
  if (audience === 'partner') return bare;
  return `(case when ${name} is not null and ${a}.alias is not null then ${name} || ' (' || ${a}.alias || ')' else ${bare} end)`;
}
