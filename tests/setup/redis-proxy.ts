import net from 'node:net';
import { freePort } from './ports';

/**
 * A TCP proxy in front of a Redis that can stop answering, as a stalled server or a proxy whose
 * backend is gone does: while stalled it accepts connections and never answers them; `pass`
 * sends new connections on to Redis; `freeze` stops the live ones midway (what they send waits
 * in the proxy), `holdOn` freezes a connection when it sends a command holding some text, and
 * `thaw` lets it all through again. `answer` plays a Redis configured otherwise than the shared
 * test one, which must stay as it is: a command holding some text gets the given reply from the
 * proxy (held with its connection when frozen), and never reaches Redis.
 */
export interface RedisProxy {
  /** The target's URL (database included) on the proxy's port. */
  url: string;
  pass(): void;
  freeze(): void;
  holdOn(text: string): void;
  /** `reply` in Redis' protocol (RESP), sent for each chunk holding `text`. */
  answer(text: string, reply: string): void;
  thaw(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
  frozen: boolean;
  /** What each side sent while frozen, in order. */
  toRedis: Buffer[];
  toClient: Buffer[];
}

export async function startRedisProxy(
  target: URL,
  { passing = false }: { passing?: boolean } = {},
): Promise<RedisProxy> {
  const live = new Set<Pair>();
  let holdText: string | null = null;
  const answers = new Map<string, Buffer>();
  const server = net.createServer((client) => {
    const pair: Pair = { client, frozen: false, toRedis: [], toClient: [] };
    live.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      live.delete(pair);
      pair.upstream?.destroy();
    });
    if (!passing) {
      // Read and drop: nothing reaches Redis, nothing comes back.
      client.resume();
      return;
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (!pair.frozen && holdText !== null && chunk.includes(holdText)) pair.frozen = true;
      const answer = [...answers].find(([text]) => chunk.includes(text))?.[1];
      if (answer) {
        if (pair.frozen) pair.toClient.push(answer);
        else client.write(answer);
      } else if (pair.frozen) pair.toRedis.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.frozen) pair.toClient.push(chunk);
      else client.write(chunk);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = new URL(target.toString());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    pass: () => {
      passing = true;
    },
    freeze: () => {
      passing = false;
      for (const pair of live) pair.frozen = true;
    },
    holdOn: (text) => {
      holdText = text;
    },
    answer: (text, reply) => {
      answers.set(text, Buffer.from(reply));
    },
    thaw: () => {
      passing = true;
      holdText = null;
      for (const pair of live) {
        if (!pair.upstream) continue;
        pair.frozen = false;
        for (const chunk of pair.toRedis.splice(0)) pair.upstream.write(chunk);
        for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client } of live) client.destroy();
        server.close(() => resolve());
      }),
  };
}
