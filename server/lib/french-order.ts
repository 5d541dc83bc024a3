/** French alphabetical order, as `localeCompare(…, 'fr')` gives it, with one collator for all. */
const collator = new Intl.Collator('fr');

export const compareFrench = (a: string, b: string): number => collator.compare(a, b);

/** Named things (users, teams, partners) in French alphabetical order of their names. */
export const byFrenchName = (a: { name: string }, b: { name: string }): number =>
  collator.compare(a.name, b.name);
