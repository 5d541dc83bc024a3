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

export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends AppError {
  constructor(message: string, details?: FieldIssue[]) {
    super(400, 'validation_failed', message, details);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super(401, 'unauthenticated', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this') {
    super(403, 'forbidden', message);
  }
}
export class NotFoundError extends AppError {
  /** `code` tells apart what was not found where a page must (a right's code in a form). */
  constructor(what = 'Resource', code = 'not_found') {
    super(404, code, `${what} not found`);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
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
export class DependencyError extends AppError {
  constructor(message: string) {
    super(503, 'dependency_unavailable', message);
  }
}
