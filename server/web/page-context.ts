import type { Request } from 'express';
import { csrfSync } from 'csrf-sync';
import { PERSON_ROLES } from '../auth/actor';
import type { AccessibilityLevel } from '../features/settings/settings-schemas';
import type { NotificationService } from '../features/notifications/notification-service';
import { takeKeptForm } from './kept-form';
import type { PageContext } from './views/layout';

/** The footer's RGAA level, read on first use (see accessibilityLevels in server/web/legal). */
export type AccessibilityLevelReader = () => Promise<AccessibilityLevel | undefined>;

/** Synchronizer token kept in the session and sent back in every form's `_csrf` field. */
export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
});

/**
 * Builds what the page frame needs. A token is only minted when there is a form to protect
 * (signed-in pages, the login page), so anonymous 404s do not create sessions.
 */
export async function pageContext(
  req: Request,
  notifications: Pick<NotificationService, 'unreadCount'> | null,
  opts: { withToken?: boolean; keepFlash?: boolean } = {},
): Promise<PageContext> {
  const actor = req.user ?? null;
  let unread = 0;
  if (actor && notifications) {
    unread = await notifications.unreadCount(actor.id);
  }
  // Error pages leave the message for the page it was meant for: a stray request (a favicon,
  // a prefetch) landing between a POST and its redirect must not swallow it.
  const flash = opts.keepFlash ? null : (req.session?.flash ?? null);
  if (flash) delete req.session.flash;
  // And the form kept for a page is given back by that page, never by an error page.
  const kept = opts.keepFlash ? null : takeKeptForm(req);
  const wantToken = (opts.withToken ?? Boolean(actor)) && Boolean(req.session);
  return {
    actor,
    csrfToken: wantToken ? csrf.generateToken(req) : '',
    unread,
    flash,
    kept,
    staff: actor ? PERSON_ROLES.includes(actor.role) : false,
    // Read once for this request through accessibilityLevels() (server/web/legal), for the footer.
    accessibility: await (
      req.res?.locals.accessibilityLevel as AccessibilityLevelReader | undefined
    )?.(),
  };
}
