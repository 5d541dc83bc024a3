import { z } from 'zod';
import { knownVersion, oneLine, plainString, uuid } from '../../lib/validate';

/** The code of the issue of an archived district chosen for a person, for the pages' words. */
export const DISTRICT_ARCHIVED = 'district_archived';

/**
 * Whether a person's district may be set to this one. An archived district is no longer offered
 * for a new choice, but a person already in it keeps it (their form sends it back unchanged):
 * statistics and the backlog still count them there.
 */
export const mayChooseDistrict = (
  district: { id: string; archivedAt: Date | null },
  currentId: string | null,
): boolean => !district.archivedAt || district.id === currentId;

const name = () => oneLine(100);
/** An INSEE, IRIS or QPV code as the administration writes it (49007, 490070101, QN04901M). */
const code = () =>
  plainString()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9]{2,20}$/, 'must be 2 to 20 letters or digits (an INSEE, IRIS or QPV code)')
    .nullable()
    .optional()
    .meta({ description: 'An INSEE, IRIS or QPV code; null clears it' });
const qpv = () =>
  z
    .boolean()
    .optional()
    .meta({ description: 'A quartier prioritaire de la politique de la ville' });

export const districtIdParams = z.object({ id: uuid() }).strict();

export const createDistrictBody = z.object({ name: name(), code: code(), qpv: qpv() }).strict();
export type CreateDistrictInput = z.infer<typeof createDistrictBody>;

export const updateDistrictBody = z
  .object({
    name: name().optional(),
    code: code(),
    qpv: qpv(),
    archived: z.boolean().optional(),
    version: knownVersion(),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), {
    path: ['name'],
    message: 'give a name, code, qpv or archived',
  });
export type UpdateDistrictInput = z.infer<typeof updateDistrictBody>;

export const listDistrictsQuery = z
  .object({
    archived: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .meta({ description: 'true: archived districts too; absent or false: the districts in use' }),
  })
  .strict();
export type ListDistrictsQuery = z.infer<typeof listDistrictsQuery>;

/* Response bodies, for the OpenAPI document. */

export const districtView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    code: z.string().nullable(),
    qpv: z.boolean(),
    archivedAt: z.iso.datetime().nullable(),
    version: z.number().int().meta({ description: 'Send it back with a change (409 if stale)' }),
  })
  .strict()
  .meta({ id: 'District', description: 'A district (quartier) of the structure' });
