/** Which page of a list is asked for (1-based) and how many rows a page holds. */
export interface Paging {
  page: number;
  pageSize: number;
}

/**
 * A page of a list and the list's total, for `{ items, total, page, pageSize }` answers. The
 * page is read first; a page that is neither empty nor full is the last one, so the total is its
 * offset plus its rows and nothing is counted (a person's contacts, follow-ups or referrals
 * mostly fit on one page: one statement instead of two). A full page, or an empty one, is
 * counted after it: one statement after the other, which a transaction (one connection) needs
 * anyway. As with two statements run side by side, a row written between them can make the
 * total differ from the rows by one.
 */
export async function pageWithTotal<T>(
  paging: Paging,
  rows: (limit: number, offset: number) => PromiseLike<T[]>,
  count: () => PromiseLike<number | string>,
): Promise<{ rows: T[]; total: number }> {
  const offset = (paging.page - 1) * paging.pageSize;
  const found = await rows(paging.pageSize, offset);
  if (found.length > 0 && found.length < paging.pageSize)
    return { rows: found, total: offset + found.length };
  if (found.length === 0 && offset === 0) return { rows: found, total: 0 };
  return { rows: found, total: Number(await count()) };
}
