import fs from 'node:fs';
import net from 'node:net';

/**
 * The kernel's ephemeral ports (Linux's default when it cannot be read): where `listen(0)` and
 * every outgoing connection take their local port.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    /* not Linux: the default below */
  }
  return [32768, 60999];
}

/** The widest run of ports above 1024 outside the ephemeral range, if one is wide enough. */
function pickingRange(): [number, number] | null {
  const [low, high] = ephemeralRange();
  const below: [number, number] = [Math.max(1025, low - 12_000), low - 1];
  const above: [number, number] = [high + 1, 65_535];
  const width = ([a, b]: [number, number]) => b - a + 1;
  const best = width(below) >= width(above) ? below : above;
  return width(best) >= 1000 ? best : null;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port the system chose for a moment (the fallback where no range is free of ephemeral ports). */
function systemPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A port on 127.0.0.1 for a server a test starts later (a process that must be told its port, an
 * app that must know its own address before it listens, a Redis stopped and started again).
 *
 * It is picked at random outside the kernel's ephemeral range and checked free. A port taken with
 * `listen(0)` and freed goes back to that range, where the next `listen(0)` of another test or any
 * outgoing connection may take it before the server starts (seconds later for a web preparing its
 * database): the server then fails with EADDRINUSE while the other one answers in its place. A
 * CI run failed so, as far as its output tells: the web's /healthz answered, then the web printed
 * what it prints before it listens, and its port refused the next request.
 */
export async function freePort(): Promise<number> {
  const range = pickingRange();
  if (!range) return systemPort();
  const [from, to] = range;
  for (let tries = 0; tries < 100; tries++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port found between ${from} and ${to}`);
}
