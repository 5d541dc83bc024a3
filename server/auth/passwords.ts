import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import argon2 from 'argon2';
import { ValidationError } from '../lib/errors';

/** argon2id with OWASP's minimum (19 MiB, t=2, p=1). */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const PASSWORD_MIN = 12;
const PASSWORD_MAX = 128;
/**
 * zxcvbn's score 3: about 10^8 guesses or more ("safely unguessable" against an online attack
 * and a slow hash offline). Common passwords, keyboard walks, repeats and dictionary words with
 * a year score lower.
 */
const PASSWORD_MIN_SCORE = 3;

/**
 * Loaded and built on first use, not at start: the dictionaries (common passwords, French and
 * common words) take ~0.5 s and some 9 MB of heap, for the rare request that sets a password.
 */
let estimator: Promise<ZxcvbnFactory> | null = null;
async function strength(password: string): Promise<number> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, zxcvbnCommon, zxcvbnFr] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-fr'),
    ]);
    return new ZxcvbnFactory({
      dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnFr.dictionary },
      graphs: zxcvbnCommon.adjacencyGraphs,
    });
  })().catch((err: unknown) => {
    // A failed load is tried again at the next password, not kept until a restart.
    estimator = null;
    throw err;
  });
  return (await estimator).check(password).score;
}

/**
 * Length 12–128, no composition rules, common or easily guessed passwords refused (ASVS 6.2),
 * judged by zxcvbn with the common and French dictionaries.
 */
export async function checkPasswordPolicy(password: string, field = 'password'): Promise<void> {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new ValidationError(
      `The password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`,
      [
        {
          field,
          code: 'password_length',
          message: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`,
        },
      ],
    );
  }
  if ((await strength(password)) < PASSWORD_MIN_SCORE) {
    throw new ValidationError(
      'This password is too common or too easy to guess; choose another one',
      [{ field, code: 'password_weak', message: 'is too common or too easy to guess' }],
    );
  }
}

export const hashPassword = (password: string) => argon2.hash(password, OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** Used when the account does not exist, so timing does not tell which emails are known. */
let dummyHash: Promise<string> | null = null;
export async function burnTime(password: string): Promise<void> {
  dummyHash ??= hashPassword('aller-vers-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}
