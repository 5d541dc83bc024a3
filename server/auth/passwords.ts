import argon2 from 'argon2';
import { ValidationError } from '../lib/errors';
import { COMMON_PASSWORDS } from './common-passwords';

/** argon2id with OWASP's minimum (19 MiB, t=2, p=1). */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

/** Length 12–128, no composition rules, common passwords refused (ASVS 6.2). */
export function checkPasswordPolicy(password: string, field = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new ValidationError(
      `The password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`,
      [{ field, message: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long` }],
    );
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    throw new ValidationError('This password is too common; choose another one', [
      { field, message: 'is a commonly used password' },
    ]);
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
