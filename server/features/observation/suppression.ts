/**
 * Small-count suppression of a published table, as statistical offices do it: no pure
 * dependency on the database or the HTTP layer, so it is tested on its own (unit and
 * property-based tests).
 *
 * A table is a list of cells (true values) and the linear relations a reader knows between them,
 * each "whole = sum of parts" (a column's rows add up to its total, the four non-take-up reasons
 * add up to the rights not claimed). A cell is suppressed when:
 *
 * 1. primary: it is small (the caller decides: a count under the threshold, an amount with too
 *    few people behind it);
 * 2. secondary, until nothing changes:
 *    - the cell it stands on is suppressed (an amount on the count of its rights): shown beside
 *      a suppressed count, it would tell that count was large, hidden only for a neighbour's sake;
 *    - a relation holds exactly one suppressed term: the reader would compute it from the others,
 *      so the smallest other shown part is suppressed too (the whole only when no part is left);
 *    - a relation whose shown whole is matched by its shown parts (the suppressed parts add up
 *      to 0): every count being at least 0, each suppressed part would be known to be 0, so the
 *      smallest shown part is suppressed;
 *    - a relation whose shown whole leaves a remainder (the whole minus its shown parts, which
 *      the reader computes) standing for fewer people than the threshold: that remainder is as
 *      small a group as a small cell (one right worth 10 948 € a year), so the smallest shown part
 *      is suppressed, until the suppressed parts together stand for at least the threshold (the
 *      usual complementary-suppression rule, with each cell's people as its weight);
 *    - an exact audit (Gaussian elimination over the rationals, as BigInt) of all relations
 *      together finds any suppressed cell still determined by a combination of relations (two
 *      rectangles of suppressed cells joined by one cell, say); the smallest shown term of a
 *      relation it appears in is suppressed, and the loop starts again.
 *
 * Every shown cell is then at least the threshold, and so is every remainder a relation leaves,
 * so a suppressed cell is known to be at least 0 and nothing more: the published marker ("< 5")
 * stands for every suppressed cell alike, and the reader cannot tell a small cell from its
 * complement.
 */

export interface Cell {
  /** The true value (a count, or an amount in cents). */
  value: number;
  /** Suppressed for its own sake (small). */
  primary: boolean;
  /**
   * The people behind the value, when they are not the value itself (an amount's: the people
   * whose rights it adds up). A count is its own weight.
   */
  people?: number;
  /** The cell whose people this one is about (an amount's count): suppressed whenever it is. */
  standsOn?: number;
}

/** whole = parts[0] + parts[1] + …, by cell index. */
export interface Relation {
  whole: number;
  parts: number[];
}

interface Term {
  cell: number;
  coef: 1 | -1;
}

const termsOf = (r: Relation): Term[] => [
  { cell: r.whole, coef: 1 },
  ...r.parts.map((cell) => ({ cell, coef: -1 as const })),
];

/**
 * The suppressed cells that the relations still determine, given which cells are shown: exact
 * reduced row echelon form of the relations restricted to the suppressed cells (the shown ones
 * are constants). A suppressed cell is determined when its pivot row has no other unknown left.
 */
export function determinedCells(
  cellCount: number,
  suppressed: readonly boolean[],
  relations: readonly Relation[],
): number[] {
  const rows: Map<number, bigint>[] = [];
  for (const r of relations) {
    const row = new Map<number, bigint>();
    for (const t of termsOf(r)) {
      if (t.cell < 0 || t.cell >= cellCount) throw new Error(`No cell ${t.cell}`);
      if (!suppressed[t.cell]) continue;
      const v = (row.get(t.cell) ?? 0n) + BigInt(t.coef);
      if (v === 0n) row.delete(t.cell);
      else row.set(t.cell, v);
    }
    if (row.size) rows.push(row);
  }
  const unknowns = [...new Set(rows.flatMap((r) => [...r.keys()]))].sort((a, b) => a - b);
  const pivotRowOf = new Map<number, Map<number, bigint>>();
  let pending = rows;
  for (const col of unknowns) {
    const at = pending.findIndex((r) => r.has(col));
    if (at < 0) continue;
    const pivot = pending[at];
    pending = pending.filter((_, i) => i !== at);
    const eliminate = (row: Map<number, bigint>): Map<number, bigint> => {
      const a = row.get(col);
      if (a === undefined) return row;
      const p = pivot.get(col)!;
      const out = new Map<number, bigint>();
      for (const [c, v] of row) out.set(c, v * p);
      for (const [c, v] of pivot) {
        const next = (out.get(c) ?? 0n) - v * a;
        if (next === 0n) out.delete(c);
        else out.set(c, next);
      }
      return normalise(out);
    };
    pending = pending.map(eliminate).filter((r) => r.size > 0);
    for (const [c, r] of pivotRowOf) pivotRowOf.set(c, eliminate(r));
    pivotRowOf.set(col, pivot);
  }
  const determined: number[] = [];
  for (const [col, row] of pivotRowOf) if (row.size === 1 && row.has(col)) determined.push(col);
  return determined.sort((a, b) => a - b);
}

function normalise(row: Map<number, bigint>): Map<number, bigint> {
  let g = 0n;
  for (const v of row.values()) g = gcd(g, v < 0n ? -v : v);
  if (g > 1n) for (const [c, v] of row) row.set(c, v / g);
  return row;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

const peopleOf = (c: Cell) => c.people ?? c.value;

/**
 * Which cells to suppress (true), primary and secondary, for these cells and relations;
 * `threshold` is the fewest people a remainder may stand for.
 */
export function suppress(
  cells: readonly Cell[],
  relations: readonly Relation[],
  threshold: number,
): boolean[] {
  const hidden = cells.map((c) => c.primary);
  const byCell = new Map<number, Relation[]>();
  const wholes = new Set(relations.map((r) => r.whole));
  for (const r of relations)
    for (const t of termsOf(r)) byCell.set(t.cell, [...(byCell.get(t.cell) ?? []), r]);

  /** The smallest shown cell among these (ties: the first), or null. */
  const smallestShown = (candidates: Iterable<number>): number | null => {
    let best: number | null = null;
    for (const c of candidates)
      if (!hidden[c] && (best === null || cells[c].value < cells[best].value)) best = c;
    return best;
  };

  /** One pass of the local rules; true when a cell was suppressed. */
  const localPass = (): boolean => {
    let changed = false;
    cells.forEach((c, i) => {
      if (c.standsOn !== undefined && hidden[c.standsOn] && !hidden[i]) {
        hidden[i] = true;
        changed = true;
      }
    });
    for (const r of relations) {
      const terms = [r.whole, ...r.parts];
      const hiddenTerms = terms.filter((c) => hidden[c]);
      if (hiddenTerms.length === 1) {
        // A part rather than the whole: totals are what readers look at first.
        const c = smallestShown(r.parts) ?? smallestShown([r.whole]);
        if (c !== null) {
          hidden[c] = true;
          changed = true;
        }
        continue;
      }
      const hiddenParts = r.parts.filter((c) => hidden[c]);
      if (
        !hidden[r.whole] &&
        hiddenParts.length > 0 &&
        (hiddenParts.every((c) => cells[c].value === 0) ||
          remainderPeople(r, cells, hidden) < threshold)
      ) {
        const c = smallestShown(r.parts);
        if (c !== null) {
          hidden[c] = true;
          changed = true;
        }
      }
    }
    return changed;
  };

  for (let guard = 0; guard <= cells.length; guard++) {
    while (localPass());
    const determined = determinedCells(cells.length, hidden, relations);
    if (determined.length === 0) break;
    let changed = false;
    for (const d of determined) {
      const near = nearShown(d, byCell, hidden);
      const c = smallestShown(near.filter((x) => !wholes.has(x))) ?? smallestShown(near);
      if (c !== null && !hidden[c]) {
        hidden[c] = true;
        changed = true;
      }
    }
    // Nothing shown is left to hide near a determined cell: the table itself determines it.
    if (!changed) break;
  }
  return hidden;
}

/**
 * The fewest people the suppressed parts of a relation can stand for together. A whole's people
 * are at most its parts' added up (a person with two rights obtained is in two rows of rights),
 * and exactly that where the parts cut people apart; so the suppressed parts stand for at least
 * the whole's people minus the shown parts', and at least as many as the largest of them.
 */
function remainderPeople(r: Relation, cells: readonly Cell[], hidden: readonly boolean[]): number {
  let largestHidden = 0;
  let shown = 0;
  for (const c of r.parts)
    if (hidden[c]) largestHidden = Math.max(largestHidden, peopleOf(cells[c]));
    else shown += peopleOf(cells[c]);
  return Math.max(largestHidden, peopleOf(cells[r.whole]) - shown);
}

/**
 * The shown cells of the relations a cell appears in; when there is none, those reached through
 * suppressed cells (the component of relations the cell is determined through).
 */
function nearShown(start: number, byCell: Map<number, Relation[]>, hidden: boolean[]): number[] {
  const seen = new Set<number>([start]);
  let frontier = [start];
  while (frontier.length) {
    const shown: number[] = [];
    const next: number[] = [];
    for (const cell of frontier)
      for (const r of byCell.get(cell) ?? [])
        for (const t of [r.whole, ...r.parts]) {
          if (!hidden[t]) shown.push(t);
          else if (!seen.has(t)) {
            seen.add(t);
            next.push(t);
          }
        }
    if (shown.length) return shown;
    frontier = next;
  }
  return [];
}
