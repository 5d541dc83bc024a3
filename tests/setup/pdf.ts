import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * The text of a PDF as a reader would copy it (pdf.js, through pdf-parse, in a child Node
 * process), whitespace runs joined into single spaces so a sentence wrapped over two lines
 * still reads whole.
 */
export function pdfTextOf(pdf: Buffer): Promise<{ text: string; pages: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(__dirname, 'pdf-text.mjs')],
      { maxBuffer: 10 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`pdf-text: ${err.message} ${stderr}`));
        const r = JSON.parse(stdout) as { text: string; pages: number };
        resolve({ text: r.text.replace(/\s+/g, ' ').trim(), pages: r.pages });
      },
    );
    child.stdin?.end(pdf);
  });
}

/** A supertest parser that keeps a binary body (a PDF) as a Buffer. */
export function binary(res: unknown, done: (err: Error | null, body: Buffer) => void): void {
  // superagent hands the Node response stream to a custom parser, whatever its types say.
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}
