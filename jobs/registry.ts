import { FOLLOW_UP_DUE } from '../server/features/follow-ups/follow-up-schemas';
import { followUpDue } from './follow-ups/follow-up-due';
import type { ProcessorRegistry } from './processor';

/**
 * Every deadline kind and its processor, in one place. The job name is the kind; a job whose kind
 * is not listed here fails at once without retries. Adding a kind: one processor file, one line.
 */
export const processors: ProcessorRegistry = Object.freeze({
  [FOLLOW_UP_DUE]: followUpDue,
});
