import { z } from 'zod';
import { paging, queryFlag, uuid } from '../../lib/validate';

export const listNotificationsQuery = z
  .object({
    unread: queryFlag(),
    ...paging,
  })
  .strict();
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;

export const notificationParams = z.object({ id: uuid() }).strict();
