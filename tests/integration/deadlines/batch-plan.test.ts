import crypto from 'node:crypto';
import {
  createDeadlineRepository,
  type Deadline,
} from '../../../server/features/deadlines/deadline-repository';
import { NOTIFY_FOLLOW_UP_OVERDUE } from '../../../server/features/deadlines/rule-kinds';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { testKnex } from '../../setup/db';
import { createStructure } from '../../setup/factories';
import { capture, explain, planNodes } from '../../setup/plans';

/**
 * The statements of a batch of deadlines (jobs/README.md, "Batched delivery") read their rows by
 * keys, whatever the statistics say of a burst of deadlines written since the last ANALYZE. The
 * claim (`deadlines.claimDue`) reads the rows it locks from an index that holds every one of its
 * conditions, in the order it takes them: no other structure's or kind's due rows filtered, no
 * sort of every due row. This reads the plans PostgreSQL makes for the very statements the
 * repository sends (no timing).
 */
const DUE = new Date('2026-12-01T09:00:00.000Z');
const NOW = new Date('2026-12-01T09:05:00.000Z');

describe('the statements of a batch of due deadlines', () => {
  const repo = createDeadlineRepository();

  it('when thousands of deadlines of other structures and kinds are due too, then the claim reads its own rows, latest first, from the claim index', async () => {
    // In one transaction, rolled back: no other test's worker ever sees these due rows.
    const trx = await testKnex().transaction();
    try {
      const [mine, other] = [await createStructure(trx), await createStructure(trx)];
      const due = (structureId: string, kind: string, n: number, minutes = 0) =>
        trx.raw(
          `INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at)
           SELECT ?, ?, 'follow_up', gen_random_uuid(), ?::timestamptz - g * ? * interval '1 minute'
             FROM generate_series(1, ?) g`,
          [structureId, kind, DUE, minutes, n],
        );
      // As many of each structure and kind, so that PostgreSQL's estimates are right: the
      // other ones fall due later, ahead of this structure's in the due-date order.
      await due(other.id, FOLLOW_UP_DUE, 2000);
      await due(other.id, NOTIFY_FOLLOW_UP_OVERDUE, 2000);
      await due(mine.id, NOTIFY_FOLLOW_UP_OVERDUE, 2000);
      await due(mine.id, FOLLOW_UP_DUE, 2000, 1);
      await trx.raw('ANALYZE deadlines');

      const [{ id }] = await trx('deadlines')
        .where({ structure_id: mine.id, kind: FOLLOW_UP_DUE })
        .orderBy('due_at')
        .limit(1);
      const lead = (await repo.findById(trx, id))!;
      const sent = await capture(
        testKnex(),
        /for update skip locked/,
        () => repo.claimDue(trx, lead, NOW, 499),
        (claimed) => {
          expect(claimed).toHaveLength(499);
          expect(claimed.every((d) => d.structureId === mine.id && d.kind === FOLLOW_UP_DUE)).toBe(
            true,
          );
          const dues = claimed.map((d) => d.dueAt.getTime());
          expect(dues).toEqual([...dues].sort((a, b) => b - a));
          expect(dues[0]).toBe(DUE.getTime() - 60_000);
        },
      );
      expect(sent).toHaveLength(1);
      const nodes = planNodes(await explain(trx, sent[0]));
      const scan = nodes.find((n) => n['Index Name'] === 'deadlines_claim');
      expect(scan).toBeDefined();
      for (const column of ['structure_id', 'kind', 'due_at'])
        expect(String(scan!['Index Cond'])).toContain(column);
      expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
    } finally {
      await trx.rollback();
    }
  });

  it('when a batch looks for newer deadlines of its subjects, then it gets those a later one follows, each read by its key', async () => {
    const trx = await testKnex().transaction();
    try {
      const structure = await createStructure(trx);
      const [reassigned, kept] = [crypto.randomUUID(), crypto.randomUUID()];
      const row = (subjectId: string, createdAt: string) => ({
        structure_id: structure.id,
        kind: FOLLOW_UP_DUE,
        subject_type: 'follow_up',
        subject_id: subjectId,
        due_at: DUE,
        created_at: createdAt,
      });
      const ids = (
        await trx('deadlines')
          .insert([
            row(reassigned, '2026-11-30T10:00:00.000001Z'),
            // Later by a microsecond only: compared in SQL, not through a Date.
            row(reassigned, '2026-11-30T10:00:00.000002Z'),
            row(kept, '2026-11-30T10:00:00.000001Z'),
          ])
          .returning('id')
      ).map((r: { id: string }) => r.id);
      // One after the other: a transaction is one connection, which runs one query at a time.
      const ds: Deadline[] = [];
      for (const id of ids) ds.push((await repo.findById(trx, id))!);

      const sent = await capture(
        testKnex(),
        /unnest/,
        () => repo.withNewer(trx, ds),
        (newer) => expect([...newer]).toEqual([ids[0]]),
      );
      expect(sent).toHaveLength(1);
      const nodes = planNodes(await explain(trx, sent[0]));
      const onDeadlines = nodes.filter((n) => n['Relation Name'] === 'deadlines');
      expect(onDeadlines.length).toBeGreaterThan(0);
      expect(onDeadlines.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      expect(onDeadlines.map((n) => n['Index Name'])).toContain('deadlines_pkey');
    } finally {
      await trx.rollback();
    }
  });
});
