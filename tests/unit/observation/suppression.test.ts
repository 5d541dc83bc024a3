import {
  determinedCells,
  suppress,
  type Cell,
  type Relation,
} from '../../../server/features/observation/suppression';

const cells = (values: number[], threshold = 5): Cell[] =>
  values.map((value) => ({ value, primary: value < threshold }));

describe('small-count suppression', () => {
  it('hides nothing when every count is at or above the threshold', () => {
    // total = a + b
    expect(suppress(cells([30, 10, 20]), [{ whole: 0, parts: [1, 2] }], 5)).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('when one part is small, then the smallest other part is hidden with it', () => {
    // 40 = 3 + 12 + 25: 3 alone would be 40 - 12 - 25.
    expect(suppress(cells([40, 3, 12, 25]), [{ whole: 0, parts: [1, 2, 3] }], 5)).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it('hides a part rather than the whole, and the whole only when no part is left', () => {
    // 9 = 3 + 6: the part 6 is hidden with 3, the total stays.
    expect(suppress(cells([9, 3, 6]), [{ whole: 0, parts: [1, 2] }], 5)).toEqual([
      false,
      true,
      true,
    ]);
    // A single part equal to its whole: both small or both shown.
    expect(suppress(cells([3, 3]), [{ whole: 0, parts: [1] }], 5)).toEqual([true, true]);
  });

  it('when the hidden parts add up to 0 under a shown whole, then another part is hidden (counts are never negative)', () => {
    // 20 = 20 + 0 + 0: the two zeros would be known to be 0.
    expect(suppress(cells([20, 20, 0, 0]), [{ whole: 0, parts: [1, 2, 3] }], 5)).toEqual([
      false,
      true,
      true,
      true,
    ]);
  });

  it('when the hidden parts together stand for fewer than the threshold, then another part is hidden', () => {
    // 26 = 25 + 1 + 0 + 0: the reader would know that exactly 1 lies outside the 25.
    expect(suppress(cells([26, 25, 1, 0, 0]), [{ whole: 0, parts: [1, 2, 3, 4] }], 5)).toEqual([
      false,
      true,
      true,
      true,
      true,
    ]);
    // 30 = 20 + 6 + 4: the 4 hidden with the 6 stand for 10.
    expect(suppress(cells([30, 20, 6, 4]), [{ whole: 0, parts: [1, 2, 3] }], 5)).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it('weighs an amount by the people behind it, even where people stand in several parts', () => {
    // Amounts by right: 6 people in all, 5 behind the first right, 3 behind the second, 1 behind
    // the third (people with two rights count in both). The third is hidden; the total minus the
    // two others would be one person's amount, as far as the reader can tell: both are hidden.
    const amounts: Cell[] = [
      { value: 900_000, primary: false, people: 6 },
      { value: 500_000, primary: false, people: 5 },
      { value: 300_000, primary: false, people: 3 },
      { value: 100_000, primary: true, people: 1 },
    ];
    expect(suppress(amounts, [{ whole: 0, parts: [1, 2, 3] }], 5)).toEqual([
      false,
      true,
      true,
      true,
    ]);
    // With 20 people in all and 14 behind the second right, hiding the second with the third is
    // enough: together they stand for at least 20 - 5 = 15 people.
    amounts[0] = { value: 900_000, primary: false, people: 20 };
    amounts[2] = { value: 300_000, primary: false, people: 14 };
    expect(suppress(amounts, [{ whole: 0, parts: [1, 2, 3] }], 5)).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it('hides a cell whenever the cell it stands on is hidden', () => {
    // Counts 20 = 12 + 6 + 2 and their amounts 2000 = 500 + 1300 + 200: the 6 is hidden with the
    // 2, so its amount is too, though the 500 was enough to hide the 200 with.
    const counts = cells([20, 12, 6, 2]);
    const amounts: Cell[] = [2000, 500, 1300, 200].map((value, i) => ({
      value,
      primary: counts[i].value < 5,
      people: counts[i].value,
      standsOn: i,
    }));
    const rel: Relation[] = [
      { whole: 0, parts: [1, 2, 3] },
      { whole: 4, parts: [5, 6, 7] },
    ];
    expect(suppress([...counts, ...amounts], rel, 5)).toEqual([
      false,
      false,
      true,
      true,
      false,
      true,
      true,
      true,
    ]);
  });

  it('propagates across relations to a fixed point (a row and a column sharing a cell)', () => {
    // Row: r = a + b; column: c = a + d. a is small: b and d are hidden with it, and each
    // relation then has two hidden terms.
    const values = [20, 2, 18, 30, 28];
    const rel: Relation[] = [
      { whole: 0, parts: [1, 2] },
      { whole: 3, parts: [1, 4] },
    ];
    const hidden = suppress(cells(values), rel, 5);
    expect(hidden).toEqual([false, true, true, false, true]);
    expect(determinedCells(values.length, hidden, rel)).toEqual([]);
  });

  it('finds a hidden cell that a combination of relations determines, and hides more', () => {
    // A 2×2 table with margins where x is hidden in a pattern that is not a cycle:
    // rows R1 = a + b, R2 = c + d; columns C1 = a + c, C2 = b + d.
    // Hide a, b, c: the column C2 gives b = C2 - d, then a = R1 - b, c = C1 - a.
    const [R1, R2, C1, C2, a, b, c, d] = [0, 1, 2, 3, 4, 5, 6, 7];
    const rel: Relation[] = [
      { whole: R1, parts: [a, b] },
      { whole: R2, parts: [c, d] },
      { whole: C1, parts: [a, c] },
      { whole: C2, parts: [b, d] },
    ];
    const hidden = [false, false, false, false, true, true, true, false];
    expect(determinedCells(8, hidden, rel)).toEqual([a, b, c]);
    // With d hidden too (a rectangle), nothing is determined.
    expect(determinedCells(8, [...hidden.slice(0, 7), true], rel)).toEqual([]);
    // From the values: a is small, and suppress() ends with a whole rectangle.
    const values = [12, 30, 13, 29, 2, 10, 11, 19];
    const out = suppress(cells(values), rel, 5);
    expect(out.slice(4)).toEqual([true, true, true, true]);
    expect(determinedCells(8, out, rel)).toEqual([]);
  });

  it('detects two rectangles joined by one cell (the local rules alone would miss it)', () => {
    // Cells x1..x4 form a rectangle, y1..y4 another; z links them through two relations that
    // each already hold two hidden terms. Equations: x1+x2=A, x3+x4=B, x1+x3=C, x2+x4+z=D,
    // y1+y2+z=E, y3+y4=F, y1+y3=G, y2+y4=H.
    const [A, B, C, D, E, F, G, H] = [0, 1, 2, 3, 4, 5, 6, 7];
    const [x1, x2, x3, x4, y1, y2, y3, y4, z] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
    const rel: Relation[] = [
      { whole: A, parts: [x1, x2] },
      { whole: B, parts: [x3, x4] },
      { whole: C, parts: [x1, x3] },
      { whole: D, parts: [x2, x4, z] },
      { whole: E, parts: [y1, y2, z] },
      { whole: F, parts: [y3, y4] },
      { whole: G, parts: [y1, y3] },
      { whole: H, parts: [y2, y4] },
    ];
    const hidden = Array.from({ length: 17 }, (_, i) => i >= 8);
    // Every relation holds at least two hidden terms, yet z is determined.
    expect(determinedCells(17, hidden, rel)).toContain(z);
  });
});
