import { Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { patchSettingsBody, settingsView } from './settings-schemas';
import type { SettingsService } from './settings-service';

/** The structure's settings: admins only (spec §5). */
export function settingsRouter(settings: SettingsService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/settings',
    policy: hasRole('admin'),
    summary:
      "The structure's settings: durations of the deadline rules, digest time, working hours",
    response: settingsView,
    handler: ({ actor }) => settings.get(actor),
  });
  endpoint(r, {
    method: 'patch',
    path: '/settings',
    policy: hasRole('admin'),
    body: patchSettingsBody,
    summary:
      'Change some settings (409 when the version given is stale); pending deadlines are re-planned; a shorter retention that would anonymise files needs confirmRetention (422 otherwise)',
    response: settingsView.extend({ replanned: z.number().int() }),
    errors: [409, 422],
    handler: ({ actor, body, ctx }) => settings.update(actor, body, ctx),
  });
  return r;
}
