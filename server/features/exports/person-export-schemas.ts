import { z } from 'zod';
import { auditEventView } from '../audit/audit-schemas';

/** One record of the export as the feature stores it: its fields depend on the table. */
const record = (what: string) =>
  z.record(z.string(), z.unknown()).meta({ description: `One ${what}, every field held` });

/** `GET /api/persons/:id/export`: everything held about a person (right of access). */
export const personExportView = z
  .object({
    generatedAt: z.string().meta({ description: 'When the export was made (ISO 8601)' }),
    structure: z.object({ name: z.string() }),
    person: record('person file'),
    mergedFileIds: z
      .array(z.uuid())
      .meta({ description: 'Files merged into this one: their history is part of it' }),
    contacts: z.array(record('contact, private notes of every author included')),
    followUps: z.array(record('follow-up')),
    rights: z.array(record('right with its history')),
    consents: z.array(record('consent')),
    referrals: z.array(record('referral with its events')),
    reports: z.array(record('report, without its reporter')),
    accessLog: z.array(auditEventView).meta({ description: 'Who read or changed the file' }),
  })
  .meta({ id: 'PersonExport' });
