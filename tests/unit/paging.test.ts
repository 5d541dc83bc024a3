import { pageWithTotal } from '../../server/lib/paging';

/** A list of `n` rows, read as the repositories read it: a page, and a count when asked. */
function list(n: number) {
  const calls = { rows: [] as [number, number][], counts: 0 };
  const all = Array.from({ length: n }, (_, i) => i);
  return {
    calls,
    rows: async (limit: number, offset: number) => {
      calls.rows.push([limit, offset]);
      return all.slice(offset, offset + limit);
    },
    count: async () => {
      calls.counts += 1;
      return String(n);
    },
  };
}

describe('pageWithTotal', () => {
  it.each([
    // [rows in the list, page, page size, rows on the page, total, counted]
    [0, 1, 20, 0, 0, false],
    [7, 1, 20, 7, 7, false],
    [27, 2, 20, 7, 27, false],
    [19, 1, 20, 19, 19, false],
    [20, 1, 20, 20, 20, true],
    [45, 1, 20, 20, 45, true],
    [40, 2, 20, 20, 40, true],
    [27, 3, 20, 0, 27, true],
    [0, 2, 20, 0, 0, true],
  ])(
    'when a list of %i rows is read at page %i of %i, then it gives %i rows and a total of %i (counted: %s)',
    async (n, page, pageSize, onPage, total, counted) => {
      const l = list(n);
      const got = await pageWithTotal({ page, pageSize }, l.rows, l.count);
      expect(got.rows).toHaveLength(onPage);
      expect(got.total).toBe(total);
      expect(l.calls.rows).toEqual([[pageSize, (page - 1) * pageSize]]);
      expect(l.calls.counts).toBe(counted ? 1 : 0);
    },
  );

  it('when the count comes as a string (PostgreSQL bigint), then the total is a number', async () => {
    const l = list(20);
    expect((await pageWithTotal({ page: 1, pageSize: 5 }, l.rows, l.count)).total).toBe(20);
  });
});
