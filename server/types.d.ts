import type { Actor } from './auth/actor';
import type { KeptForm } from './web/kept-form';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- passport's user is our Actor
    interface User extends Actor {}
    interface Request {
      id: string;
      /** How the caller proved who they are: a session cookie, or an API token (Bearer). */
      authVia?: 'session' | 'token';
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    createdAt: number;
    epoch: number;
    csrfToken: string;
    flash?: { type: 'success' | 'error' | 'info' | 'warning'; message: string };
    /** The persons list's filters, kept here so that search terms never appear in a URL. */
    /**
     * A login halfway: the password was right, the second factor's code is asked next. Holds
     * who and since when (5 minutes), never the password.
     */
    pendingLogin?: { userId: string; email: string; returnTo: string; at: number };
    /** A form refused for its session or its token, kept with what was typed for its page. */
    keptForm?: KeptForm;
    personSearch?: {
      q: string;
      statut: string;
      quartier: string;
      mes: boolean;
      /** Added later: a session saved before has none. */
      droit?: string;
      statutDroit?: string;
      raison?: string;
    };
  }
}

export {};
