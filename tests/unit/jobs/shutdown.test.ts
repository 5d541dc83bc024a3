import { createShutdown } from '../../../server/lib/shutdown';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function setup(steps: { name: string; run: () => Promise<void> }[], timeoutMs = 1000) {
  const exits: number[] = [];
  const shutdown = createShutdown(steps, {
    timeoutMs,
    logger: silent,
    exit: (code) => void exits.push(code),
  });
  return { shutdown, exits };
}

describe('graceful shutdown sequence', () => {
  it('when every step finishes, then they run in order once and the process exits 0', async () => {
    const order: string[] = [];
    const step = (name: string) => ({ name, run: async () => void order.push(name) });
    const { shutdown, exits } = setup([step('worker'), step('http'), step('database')]);

    const [a, b] = await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    expect([a, b]).toEqual([0, 0]);
    expect(order).toEqual(['worker', 'http', 'database']);
    expect(exits).toEqual([0]);
    expect(shutdown.isShuttingDown).toBe(true);
  });

  it('when a step never ends, then the overall bound stops the wait and the process exits 1', async () => {
    const ran: string[] = [];
    const { shutdown, exits } = setup(
      [
        { name: 'stuck', run: () => new Promise<void>(() => undefined) },
        { name: 'after', run: async () => void ran.push('after') },
      ],
      100,
    );
    expect(await shutdown.run('SIGTERM')).toBe(1);
    expect(ran).toEqual([]);
    expect(exits).toEqual([1]);
  });

  it('when a step fails, then the next steps still run and the process exits 1', async () => {
    const ran: string[] = [];
    const { shutdown, exits } = setup([
      { name: 'broken', run: () => Promise.reject(new Error('queue already closed')) },
      { name: 'database', run: async () => void ran.push('database') },
    ]);
    expect(await shutdown.run('SIGTERM')).toBe(1);
    expect(ran).toEqual(['database']);
    expect(exits).toEqual([1]);
  });

  it('when a failure ends the process (the worker stopped itself), then every step still runs in order and the process exits 1', async () => {
    const order: string[] = [];
    const step = (name: string) => ({ name, run: async () => void order.push(name) });
    const { shutdown, exits } = setup([step('worker'), step('database')]);
    expect(await shutdown.run('deadline worker stopped', 1)).toBe(1);
    expect(order).toEqual(['worker', 'database']);
    expect(exits).toEqual([1]);
  });
});
