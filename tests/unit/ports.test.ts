import fs from 'node:fs';
import net from 'node:net';
import { freePort } from '../setup/ports';

const listenOn = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('freePort, for servers the tests start later', () => {
  it('when asked, then it gives a port outside the kernel ephemeral range that a server can take', async () => {
    const port = await freePort();
    const range = '/proc/sys/net/ipv4/ip_local_port_range';
    if (fs.existsSync(range)) {
      const [low, high] = fs.readFileSync(range, 'utf8').trim().split(/\s+/).map(Number);
      // Where the range leaves room outside it (Linux's default does), the port is out of it.
      if (low - 1025 >= 1000 || 65535 - high >= 1000) expect(port < low || port > high).toBe(true);
    }
    const server = await listenOn(port);
    await new Promise((resolve) => server.close(resolve));
  });
});
