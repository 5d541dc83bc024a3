import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../server/auth/passwords';
import { ValidationError } from '../../server/lib/errors';

describe('password policy', () => {
  const refused = async (password: string) => {
    try {
      await checkPasswordPolicy(password);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).details as { field: string; code: string; message: string }[];
    }
    return null;
  };

  it('when the password has 11 characters, then it is refused naming the field', async () => {
    expect(await refused('abcdefghijk')).toEqual([
      { field: 'password', code: 'password_length', message: expect.stringMatching(/12 to 128/) },
    ]);
  });

  const tooEasy = [
    { field: 'password', code: 'password_weak', message: 'is too common or too easy to guess' },
  ];

  it('when the password is a passphrase of lowercase words, no digit nor symbol, then it is accepted', async () => {
    expect(await refused('cheval correct agrafe batterie')).toBeNull();
    expect(await refused('lapin vert couché')).toBeNull();
  });

  it('when the password is 128 characters, then it is accepted; 129, refused for its length', async () => {
    const passphrase = 'quatre chats gris dansent sous la pluie de novembre ';
    const long = passphrase.repeat(3).slice(0, 128);
    expect(await refused(long)).toBeNull();
    expect(await refused(`${long}x`)).toEqual([
      { field: 'password', code: 'password_length', message: expect.stringMatching(/12 to 128/) },
    ]);
  });

  it('counts characters, not UTF-16 units: 12 emoji are 12 characters', async () => {
    const emoji = ['🙂', '🚲', '🌳', '🏠', '🍎', '🎈', '🐟', '🌙', '🔑', '📚', '🎵', '🧩'];
    expect(await refused(emoji.slice(0, 11).join(''))).toEqual([
      { field: 'password', code: 'password_length', message: expect.stringMatching(/12 to 128/) },
    ]);
    expect(await refused(emoji.join(''))).toBeNull();
  });

  it.each([
    'password1234',
    'PASSWORD1234',
    'azertyuiop123',
    'motdepasse123',
    'soleil123456',
    'bonjour123456',
    'Chocolat2023',
    '123456789012',
    'aaaaaaaaaaaa',
  ])(
    'when the password is the common or easily guessed %s, then it is refused',
    async (password) => {
      expect(await refused(password)).toEqual(tooEasy);
    },
  );

  it('names the field it is given', async () => {
    const err = await checkPasswordPolicy('short', 'newPassword').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([
      expect.objectContaining({ field: 'newPassword' }),
    ]);
  });
});

describe('password hashing', () => {
  it('hashes with argon2id (m >= 19456, t >= 2) and verifies a 100-character password', async () => {
    const password = 'x'.repeat(50) + ' y'.repeat(25);
    expect(password).toHaveLength(100);
    const hash = await hashPassword(password);
    expect(hash.startsWith('$argon2id$')).toBe(true);
    const params = Object.fromEntries(
      hash
        .split('$')[3]
        .split(',')
        .map((kv) => kv.split('=')),
    );
    expect(Number(params.m)).toBeGreaterThanOrEqual(19456);
    expect(Number(params.t)).toBeGreaterThanOrEqual(2);
    expect(await verifyPassword(hash, password)).toBe(true);
    expect(await verifyPassword(hash, password.slice(1))).toBe(false);
  });

  it('when the stored hash is garbage, then verification is false, not an exception', async () => {
    expect(await verifyPassword('not-a-hash', 'whatever password')).toBe(false);
  });
});
