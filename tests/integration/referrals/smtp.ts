import net, { type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  from: string;
  to: string[];
  messageId: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
}

const decodeQp = (s: string) =>
  Buffer.from(
    s
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding === 'base64')
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQp(body);
  return body;
}

/** RFC 2047 encoded words, as nodemailer writes non-ASCII subjects. */
const decodeWords = (s: string) =>
  s
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQp(text.replace(/_/g, ' ')),
    );

function headersOf(block: string): Record<string, string> {
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const out: Record<string, string> = {};
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Just enough MIME for nodemailer's text + HTML alternative messages. */
export function parseEmail(raw: string, from: string, to: string[]): ReceivedEmail {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = headersOf(head);
  const body = rest.join('\r\n\r\n');
  let text = '';
  let html = '';
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const parts = boundary
    ? body.split(`--${boundary}`).filter((p) => p.trim() && !p.startsWith('--'))
    : [`${head}\r\n\r\n${body}`];
  for (const part of parts) {
    const [ph, ...pb] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const h = headersOf(ph);
    const content = decodeBody(pb.join('\r\n\r\n'), h['content-transfer-encoding']);
    if (/text\/plain/i.test(h['content-type'] ?? '')) text = content;
    if (/text\/html/i.test(h['content-type'] ?? '')) html = content;
  }
  return {
    from,
    to,
    messageId: headers['message-id'] ?? '',
    subject: decodeWords(headers.subject ?? ''),
    text,
    html,
    raw,
  };
}

/**
 * A real SMTP server in this process, on a free port, keeping every message it receives.
 * `rejectFirst`: the first N messages get a temporary failure (451) at the end of DATA, as a
 * server in trouble answers; they are counted in `rejected`, not kept.
 */
export async function startSmtp(opts: { rejectFirst?: number } = {}) {
  const received: ReceivedEmail[] = [];
  let rejected = 0;
  /** While set, a message's end of DATA waits to be answered (see `hold`). */
  let gate: { arrived: () => void; released: Promise<void> } | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const held = gate;
        if (held) {
          held.arrived();
          await held.released;
        }
        if (rejected < (opts.rejectFirst ?? 0)) {
          rejected += 1;
          callback(
            Object.assign(new Error('Service temporarily unavailable, try again later'), {
              responseCode: 451,
            }),
          );
          return;
        }
        const mailFrom = session.envelope.mailFrom;
        received.push(
          parseEmail(
            Buffer.concat(chunks).toString('utf8'),
            mailFrom ? mailFrom.address : '',
            session.envelope.rcptTo.map((r) => r.address),
          ),
        );
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    /** How many messages were refused with a temporary failure. */
    get rejected() {
      return rejected;
    },
    /**
     * The next message is held at the end of its DATA, unanswered, until `release()`: a send
     * in flight. `arrived` resolves once a message is held. Keep it under the mailer's timeout.
     */
    hold() {
      let arrived!: () => void;
      let release!: () => void;
      const whenArrived = new Promise<void>((resolve) => (arrived = resolve));
      gate = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return {
        arrived: whenArrived,
        release: () => {
          gate = null;
          release();
        },
      };
    },
    /** Resolves when `count` messages arrived, or fails after the timeout. */
    async waitFor(count: number, timeoutMs = 15000): Promise<ReceivedEmail[]> {
      const until = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > until)
          throw new Error(`expected ${count} email(s), received ${received.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The signed link in an email's text part. */
export function linkIn(email: ReceivedEmail): { url: string; path: string; token: string } {
  const m = /(https?:\/\/\S+\/partenaires\/reponse\/([A-Za-z0-9_-]{43}))/.exec(email.text);
  if (!m) throw new Error(`no link in: ${email.text}`);
  return { url: m[1], path: new URL(m[1]).pathname, token: m[2] };
}

/**
 * A TCP server that accepts connections and never says a word: an SMTP server hung after
 * accepting. Once `silentConnections` connections were held, later ones are relayed to
 * `upstreamPort` (the server is back).
 */
export async function startSilentServer(o: { silentConnections: number; upstreamPort: number }) {
  const held: net.Socket[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    if (connections <= o.silentConnections) {
      held.push(socket);
      socket.on('error', () => undefined);
      return;
    }
    const upstream = net.connect(o.upstreamPort, '127.0.0.1');
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    /** Held sockets the client gave up on (it closed its end). */
    get abandoned() {
      return held.filter((s) => s.destroyed || s.readableEnded).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of held) s.destroy();
        server.close(() => resolve());
      }),
  };
}
