import net from 'node:net';
import { freePort } from './ports';

/**
 * A TCP proxy in front of a Redis that can stop answering, as a stalled server or a proxy whose
 * backend is gone does: while stalled it accepts connections and never answers them; `pass`
 * pipes new connections to Redis; `freeze` stops the live ones midway (what they send waits in
 * the proxy) and `thaw` lets it all through again.
 */
export interface RedisProxy {
  /** The target's URL (database included) on the proxy's port. */
  url: string;
  pass(): void;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(
  target: URL,
  { passing = false }: { passing?: boolean } = {},
): Promise<RedisProxy> {
  const live = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  const server = net.createServer((client) => {
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
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
    client.pipe(upstream);
    upstream.pipe(client);
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
      for (const { client, upstream } of live) {
        if (!upstream) continue;
        // Unpiped, each side stops flowing: what arrives waits in its buffer.
        client.unpipe(upstream);
        upstream.unpipe(client);
      }
    },
    thaw: () => {
      passing = true;
      for (const { client, upstream } of live) {
        if (!upstream) continue;
        client.pipe(upstream);
        upstream.pipe(client);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client } of live) client.destroy();
        server.close(() => resolve());
      }),
  };
}
