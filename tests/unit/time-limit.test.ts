import { answerWithin, TIMED_OUT, within } from '../../server/lib/time-limit';

describe('within', () => {
  it('answers the value of a promise that settles in time', async () => {
    expect(await within(Promise.resolve('PONG'), 1000)).toBe('PONG');
  });

  it('answers TIMED_OUT for a promise that never settles', async () => {
    expect(await within(new Promise(() => undefined), 10)).toBe(TIMED_OUT);
  });

  it('passes on a rejection that comes in time', async () => {
    await expect(within(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused');
  });

  it('ignores a rejection that comes after the bound (no unhandled rejection)', async () => {
    let reject!: (err: Error) => void;
    const late = new Promise<never>((_, r) => (reject = r));
    expect(await within(late, 10)).toBe(TIMED_OUT);
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      reject(new Error('too late'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('answerWithin', () => {
  it('answers the value of a promise that settles in time', async () => {
    expect(await answerWithin(Promise.resolve(3), 1000, () => new Error('late'))).toBe(3);
  });

  it('fails with the error it is given when the promise does not settle in time', async () => {
    await expect(
      answerWithin(new Promise(() => undefined), 10, () => new Error('Redis did not answer')),
    ).rejects.toThrow('Redis did not answer');
  });

  it('passes on a rejection that comes in time', async () => {
    await expect(
      answerWithin(Promise.reject(new Error('refused')), 1000, () => new Error('late')),
    ).rejects.toThrow('refused');
  });
});
