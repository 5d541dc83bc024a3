import { Router } from 'express';
import { hasRole, isAuthenticated } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { NO_CONTENT } from '../../lib/openapi';
import {
  codeBody,
  enrolmentView,
  recoveryCodesView,
  twoFactorStatusView,
  userParams,
} from './two-factor-schemas';
import type { TwoFactorService } from './two-factor-service';

export function twoFactorRouter(twoFactor: TwoFactorService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/me/two-factor',
    policy: isAuthenticated(),
    summary: "The caller's second factor: on or off, recovery codes left, required or not",
    response: twoFactorStatusView,
    handler: ({ actor }) => twoFactor.status(actor),
  });
  endpoint(r, {
    method: 'post',
    path: '/me/two-factor',
    policy: isAuthenticated(),
    status: 201,
    summary:
      'Start enrolling a TOTP app: a new secret and its QR code, confirmed by a first code (409 when already on)',
    response: enrolmentView,
    errors: [409],
    handler: ({ actor }) => twoFactor.startEnrolment(actor),
  });
  endpoint(r, {
    method: 'post',
    path: '/me/two-factor/confirm',
    policy: isAuthenticated(),
    body: codeBody,
    summary:
      'Confirm the enrolment with the code the app shows; answers the recovery codes, shown this once (401 totp_invalid when wrong)',
    response: recoveryCodesView,
    errors: [401, 409],
    handler: ({ actor, body, ctx }) => twoFactor.confirmEnrolment(actor, body.code, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/me/two-factor/disable',
    policy: isAuthenticated(),
    body: codeBody,
    summary:
      'Turn the second factor off, with a current code or a recovery code (429 past 10 codes in 15 minutes, counted with the recovery codes renewal)',
    response: NO_CONTENT,
    errors: [401, 409, 429],
    handler: async ({ actor, body, ctx }) => {
      await twoFactor.disable(actor, body.code, ctx);
      return undefined;
    },
  });
  endpoint(r, {
    method: 'post',
    path: '/me/two-factor/recovery-codes',
    policy: isAuthenticated(),
    body: codeBody,
    summary:
      'New recovery codes (the old ones stop working), with a current code (429 past 10 codes in 15 minutes, counted with turning the factor off)',
    response: recoveryCodesView,
    errors: [401, 409, 429],
    handler: ({ actor, body, ctx }) => twoFactor.renewRecoveryCodes(actor, body.code, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/users/:id/two-factor/reset',
    policy: hasRole('admin'),
    params: userParams,
    summary:
      'Admin: reset the second factor of a user of the structure who lost their device (audited); they enrol again at their next login if it is required',
    response: twoFactorStatusView,
    handler: ({ actor, params, ctx }) => twoFactor.reset(actor, params.id, ctx),
  });
  return r;
}
