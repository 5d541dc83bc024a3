/** Small readers of server-rendered HTML for the HTTP page tests. */

/** The hidden CSRF field of the first form of a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF field in the page');
  return m[1];
}

/** The value an input shows, by its id (attributes in either order). */
export function inputValue(html: string, id: string): string | undefined {
  return (
    new RegExp(`<input[^>]*id="${id}"[^>]*value="([^"]*)"`).exec(html)?.[1] ??
    new RegExp(`<input[^>]*value="([^"]*)"[^>]*id="${id}"`).exec(html)?.[1]
  );
}

/** The value a textarea shows, by its id, as sent (entities left as they are). */
export function textareaValue(html: string, id: string): string | undefined {
  return new RegExp(`<textarea[^>]*id="${id}"[^>]*>([\\s\\S]*?)</textarea>`).exec(html)?.[1];
}

/** The text inside the element with this id (first level only, tags stripped). */
export function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(html);
  return m?.[1].replace(/<[^>]+>/g, '').trim();
}

/** The hidden version field of the first form that has one (the version the page was read at). */
export function versionOf(html: string): string {
  const m = /<input type="hidden" name="version" value="(\d+)"/.exec(html);
  if (!m) throw new Error('no version field in the page');
  return m[1];
}

/**
 * The opening tags of the page's forms that hold a required field but leave checking it to the
 * browser (no `novalidate`): a browser then blocks the submit with its own bubble, and the
 * page's French error summary never shows.
 */
export function formsCheckedByTheBrowser(html: string): string[] {
  return [...html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/g)]
    .filter(([, open, body]) => /\srequired[\s/>=]/.test(body) && !/\snovalidate[\s/>=]/.test(open))
    .map(([, open]) => open);
}
