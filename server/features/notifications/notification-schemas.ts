import { z } from 'zod';
import { paging, uuid } from '../../lib/validate';

export const listNotificationsQuery = z
  .object({
    unread: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    ...paging,
  })
  .strict();
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;

export const notificationParams = z.object({ id: uuid() }).strict();
