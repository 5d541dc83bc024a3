import { z } from 'zod';
import { pageOf } from '../../lib/openapi';
import { isoDateTime, paging, queryFlag, uuid } from '../../lib/validate';

export const listNotificationsQuery = z
  .object({
    unread: queryFlag(),
    ...paging,
  })
  .strict();
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;

export const notificationParams = z.object({ id: uuid() }).strict();

export const readAllBody = z
  .object({
    before: isoDateTime().optional().meta({
      description:
        'Only those that came by this moment (a list’s `newestUnreadAt`): one arriving since stays unread',
    }),
  })
  .strict();

/* Response bodies, for the OpenAPI document. */

export const notificationView = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    subjectType: z.string(),
    subjectId: z.uuid(),
    dueMoment: z.iso.datetime(),
    title: z.string(),
    body: z.string().nullable(),
    link: z.string().nullable(),
    readAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .strict()
  .meta({ id: 'Notification', description: 'An in-app message for the caller' });

export const notificationListView = pageOf(notificationView)
  .extend({
    unread: z.number().int().meta({ description: 'Unread notifications in all' }),
    newestUnreadAt: z.iso.datetime().nullable().meta({
      description:
        'When the newest unread one came (null: none): send it as `before` to mark read what the list could show',
    }),
  })
  .strict();

export const readAllView = z
  .object({
    read: z.number().int().meta({ description: 'How many were marked' }),
    unread: z
      .number()
      .int()
      .meta({ description: 'Unread notifications left: 0, or those that came after `before`' }),
  })
  .strict();
