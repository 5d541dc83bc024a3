export const ROLES = ['worker', 'manager', 'partner', 'observer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The signed-in user as every service sees it; read from the database on each request. */
export interface Actor {
  id: string;
  structureId: string;
  role: Role;
  partnerId: string | null;
  name: string;
  email: string;
}

/** The actor a user record stands for: the one user → actor conversion (login, each request). */
export function toActor(u: Actor): Actor {
  return {
    id: u.id,
    structureId: u.structureId,
    role: u.role,
    partnerId: u.partnerId,
    name: u.name,
    email: u.email,
  };
}

/**
 * What the session's user read learned with the actor: its second factor (the two-factor gate)
 * and its structure's settings (the gate, the pages' footer).
 */
export interface SessionFacts {
  totpEnabled: boolean;
  /** The structure's stored settings (raw: the settings feature applies its defaults). */
  structureSettings: unknown;
}

/**
 * Facts read with the actor in the same statement, kept beside it rather than on it: the actor
 * travels into answers (GET /api/me) and must not grow fields there.
 */
const sessionFacts = new WeakMap<Actor, SessionFacts>();

export function withSessionFacts(actor: Actor, facts: SessionFacts): Actor {
  sessionFacts.set(actor, facts);
  return actor;
}

/** The facts read with this actor by the session, or undefined (tokens, tests, other reads). */
export const sessionFactsOf = (actor: Actor): SessionFacts | undefined => sessionFacts.get(actor);

/** Roles that may read and write person files of their structure. */
export const PERSON_ROLES: readonly Role[] = ['worker', 'manager'];

/** The page each role starts from (after login, from an error page); `/` serves every role. */
export function homeFor(role: Role): string {
  if (role === 'partner') return '/orientations';
  if (role === 'admin') return '/admin';
  return '/';
}
