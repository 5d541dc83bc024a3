import { z } from 'zod';
import { paging, uuid } from '../../lib/validate';

const day = () => z.iso.date({ message: 'must be a date YYYY-MM-DD' });

/** `GET /api/audit`: by person (with the files merged into it), by user, by period (Paris days). */
export const auditQuery = z
  .object({
    personId: uuid().optional(),
    userId: uuid().optional(),
    from: day().optional(),
    to: day().optional(),
    ...paging,
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    path: ['to'],
    message: 'must not be before from',
  });
export type AuditQuery = z.infer<typeof auditQuery>;

export const auditEventView = z.object({
  at: z.iso.datetime(),
  action: z.string(),
  subjectType: z.string(),
  /** Null for an admin when the subject is a person's (admins see no person data). */
  subjectId: z.uuid().nullable(),
  actor: z.object({ id: z.uuid(), name: z.string(), role: z.string() }).nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
