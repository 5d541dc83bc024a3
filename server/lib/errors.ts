/** One small error family; the error handler maps each to its status and stable code. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The codes of the 409 family: what the caller did not know when it decided to write. */
type ConflictCode = 'conflict' | 'stale_version' | 'anonymised' | 'invalid_transition';

/** Whether `err` is one of ours with this code: pages choose their message by code. */
export function hasCode(err: unknown, ...codes: string[]): err is AppError {
  return err instanceof AppError && codes.includes(err.code);
}

export interface FieldIssue {
  field: string;
  message: string;
  /** A rule's stable code where the field may fail in several ways (a date in the future…). */
  code?: string;
}

export class ValidationError extends AppError {
  constructor(message: string, details?: FieldIssue[]) {
    super(400, 'validation_failed', message, details);
  }
}
export const CONTROL_CHARACTER_MESSAGE = 'must not contain a control character (NUL and the like)';

/**
 * A control character in a field, a query parameter or a body: a 400 like any invalid input
 * (`validation_failed`, the issue's code `control_character`); the pages say it in French,
 * naming the field.
 */
export class ControlCharacterError extends ValidationError {
  constructor(
    readonly field: string,
    /** "body", "query parameter" or "path parameter". */
    readonly where: string,
  ) {
    super(`Invalid ${where}: ${field}: ${CONTROL_CHARACTER_MESSAGE}`, [
      { field, message: CONTROL_CHARACTER_MESSAGE, code: 'control_character' },
    ]);
  }
}

/** 401; `code` tells a client what to do next (`totp_required`: send the code too). */
export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', code = 'unauthenticated') {
    super(401, code, message);
  }
}
/** 403; `code` tells apart what is missing (`two_factor_enrolment_required`, `token_scope`). */
export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this', code = 'forbidden') {
    super(403, code, message);
  }
}
export class NotFoundError extends AppError {
  /** `code` tells apart what was not found where a page must (a right's code in a form). */
  constructor(what = 'Resource', code = 'not_found') {
    super(404, code, `${what} not found`);
  }
}
/** A write that clashes with the state of things (a duplicate name, a revoked consent…). */
export class ConflictError extends AppError {
  constructor(message: string, details?: unknown, code: ConflictCode = 'conflict') {
    super(409, code, message, details);
  }
}
/**
 * A write decided on a version the row has left (someone saved meanwhile): 409, and the row as
 * it stands now in `details.current`.
 */
export class StaleVersionError extends ConflictError {
  constructor(message: string, current: unknown) {
    super(message, { current }, 'stale_version');
  }
}
/**
 * The optimistic-concurrency check of a change: when the caller sent the version it decided on
 * (`expected`; the contract leaves it optional, so none sent is no check) and the row, read
 * locked, is at another (`actual`), a StaleVersionError carrying the row as it is now, read by
 * `current` only then.
 */
export async function checkVersion(
  expected: number | undefined,
  actual: number,
  message: string,
  current: () => Promise<unknown>,
): Promise<void> {
  if (expected !== undefined && expected !== actual)
    throw new StaleVersionError(message, await current());
}
/** A person file that was anonymised: it can no longer change (409). */
export class AnonymisedError extends ConflictError {
  constructor(message: string) {
    super(message, undefined, 'anonymised');
  }
}
/**
 * A move its object's state does not allow (a closed referral reopened, a done follow-up done
 * again): 409, with what the object's state is in `details`.
 */
export class InvalidTransitionError extends ConflictError {
  constructor(message: string, details?: unknown) {
    super(message, details, 'invalid_transition');
  }
}
export class BusinessRuleError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}
export class TooManyRequestsError extends AppError {
  constructor(
    message = 'Too many attempts, try again later',
    readonly retryAfterSeconds?: number,
  ) {
    super(429, 'too_many_requests', message);
  }
}
