import { Router } from 'express';
import type { Deps } from '../container';
import { adminWebRouter } from './admin/admin-web-router';
import { loginWebRouter } from './auth/login-router';
import { passwordWebRouter } from './auth/password-router';
import { partnerEmailRouter } from './referrals/partner-email-router';
import { followUpWebRouter } from './follow-ups/follow-up-router';
import { notificationWebRouter } from './notifications/notification-router';
import { personEditWebRouter } from './persons/person-edit-router';
import { personFileRenderer, personFileWebRouter } from './persons/person-file-router';
import { personListWebRouter } from './persons/person-list-router';
import { personMergeWebRouter } from './persons/person-merge-router';
import { personAccessWebRouter } from './persons/person-access-router';
import { rightWebRouter } from './rights/right-web-router';
import { districtWebRouter } from './districts/district-web-router';
import { deadlineWebRouter } from './admin/deadline-web-router';
import { accountWebRouter } from './account/account-router';
import { apiReferenceWebRouter } from './docs/api-reference-router';
import { legalWebRouter } from './legal/legal-router';
import { apiTokenWebRouter } from './account/api-token-web-router';
import { twoFactorWebRouter } from './account/two-factor-web-router';
import { observationWebRouter } from './observation/observation-web-router';

type Services = Deps['services'];

/**
 * The web back office: server-rendered pages over the same services and policies as the JSON
 * API, one router per area. Each route starts with its policy; each POST checks the
 * synchronizer CSRF token.
 */
export function webRouter(services: Services, now: () => Date): Router {
  const r = Router();
  r.use(loginWebRouter(services));
  r.use(passwordWebRouter(services));
  r.use(partnerEmailRouter(services));
  r.use(apiReferenceWebRouter(services));
  r.use(legalWebRouter(services));
  r.use(adminWebRouter(services));
  r.use(districtWebRouter(services));
  r.use(followUpWebRouter(services, now, personFileRenderer(services, now)));
  // The list's fixed paths (/personnes/nouvelle) before the file's /personnes/:id.
  r.use(personListWebRouter(services));
  r.use(personEditWebRouter(services));
  r.use(personMergeWebRouter(services));
  r.use(personAccessWebRouter(services));
  r.use(personFileWebRouter(services, now));
  r.use(rightWebRouter(services, personFileRenderer(services, now)));
  r.use(notificationWebRouter(services));
  r.use(deadlineWebRouter(services));
  r.use(accountWebRouter(services));
  r.use(twoFactorWebRouter(services));
  r.use(apiTokenWebRouter(services));
  r.use(observationWebRouter(services));
  return r;
}
