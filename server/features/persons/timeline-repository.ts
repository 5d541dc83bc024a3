import type { Knex } from 'knex';

export type TimelineType = 'contact' | 'follow_up' | 'referral' | 'right' | 'report';

/** One event of a person's timeline, before its details are read. */
export interface TimelineEntry {
  type: TimelineType;
  id: string;
  at: Date;
}

type Db = Knex | Knex.Transaction;

/**
 * Every event about a person, scoped by structure in each branch: a contact when it happened, a
 * follow-up when it was completed or is due, a referral when it last moved (its events come with
 * it), a change of a right when it was made, a report triaged into the file when it arrived. Ordered and paged in PostgreSQL; the count comes in
 * the same query, even past the end.
 */
const PAGE_SQL = `
  WITH t AS (
    SELECT 'contact' AS type, c.id, c.occurred_at AS at
      FROM contacts c WHERE c.structure_id = :structureId AND c.person_id = :personId
    UNION ALL
    SELECT 'follow_up', f.id, coalesce(f.completed_at, f.due_at)
      FROM follow_ups f WHERE f.structure_id = :structureId AND f.person_id = :personId
    UNION ALL
    SELECT 'referral', r.id, r.updated_at
      FROM referrals r WHERE r.structure_id = :structureId AND r.person_id = :personId
    UNION ALL
    SELECT 'right', e.id, e.at
      FROM person_right_events e WHERE e.structure_id = :structureId AND e.person_id = :personId
    UNION ALL
    SELECT 'report', rp.id, rp.created_at
      FROM reports rp WHERE rp.structure_id = :structureId AND rp.person_id = :personId
  )
  SELECT (SELECT count(*) FROM t) AS total, p.type, p.id, p.at
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
      SELECT type, id, at FROM t ORDER BY at DESC, id LIMIT :limit OFFSET :offset
    ) AS p ON true
    ORDER BY p.at DESC, p.id`;

export const timelineRepository = {
  async page(
    db: Db,
    structureId: string,
    personId: string,
    page: number,
    pageSize: number,
  ): Promise<{ entries: TimelineEntry[]; total: number }> {
    const { rows } = await db.raw<{
      rows: { total: number; type: TimelineType | null; id: string | null; at: Date | null }[];
    }>(PAGE_SQL, { structureId, personId, limit: pageSize, offset: (page - 1) * pageSize });
    return {
      entries: rows
        .filter((r) => r.id !== null)
        .map((r) => ({ type: r.type!, id: r.id!, at: r.at! })),
      total: Number(rows[0]?.total ?? 0),
    };
  },
};
