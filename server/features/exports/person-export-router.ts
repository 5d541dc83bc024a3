import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { personIdParams } from '../persons/person-schemas';
import { personExportView } from './person-export-schemas';
import type { PersonExportService } from './person-export-service';

export function personExportRouter(exports: PersonExportService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/export',
    policy: hasRole('manager'),
    params: personIdParams,
    response: personExportView,
    summary:
      'Right of access: everything held about the person (file, contacts with every private note, follow-ups, rights and their history, consents, referrals and their events, reports without their reporter, who read the file), audited; the printable PDF is the page /personnes/:id/export.pdf',
    handler: ({ actor, params, ctx }) => exports.export(actor, params.id, 'json', ctx),
  });
  return r;
}
