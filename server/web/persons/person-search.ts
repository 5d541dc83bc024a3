import type { Actor } from '../../auth/actor';
import type { Deps } from '../../container';
import type { RequestContext } from '../../features/audit/audit-trail';
import { plainString } from '../../lib/validate';
import { SEARCH_MESSAGES } from '../forms';
import type { PersonSearchResult } from './duplicate-views';

const searchTerm = plainString().trim().min(1).max(100);
/** The most files a pick's search lists. */
const PICK_LIMIT = 20;

/**
 * The search of a page that picks a file of the structure (the other file of a merge, the file a
 * report is linked to): the term typed, checked, then the persons' search (audited as any other),
 * `except` left out of what it found. 400 for a term refused, with its message.
 */
export async function searchToPick(
  persons: Pick<Deps['services']['persons'], 'search'>,
  actor: Actor,
  typed: string,
  ctx: RequestContext,
  except?: string,
): Promise<{ search: PersonSearchResult; status: 200 | 400 }> {
  const term = searchTerm.safeParse(typed);
  if (!term.success) {
    const error =
      typed.trim() === '' ? 'Saisissez un nom, un surnom ou un lieu' : SEARCH_MESSAGES.q;
    return { search: { q: typed, items: [], error }, status: 400 };
  }
  const found = await persons.search(
    actor,
    { q: term.data, page: 1, pageSize: PICK_LIMIT + 1 },
    ctx,
  );
  const items = found.items.filter((p) => p.id !== except).slice(0, PICK_LIMIT);
  return { search: { q: typed, items }, status: 200 };
}
