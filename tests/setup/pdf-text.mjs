// Prints the text of the PDF given on standard input as JSON { text, pages }. Run by
// tests/setup/pdf.ts in a plain Node process: pdf.js loads its worker with a dynamic import,
// which jest's module sandbox refuses.
import { PDFParse } from 'pdf-parse';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const parser = new PDFParse({ data: new Uint8Array(Buffer.concat(chunks)) });
try {
  const r = await parser.getText();
  process.stdout.write(JSON.stringify({ text: r.text, pages: r.total }));
} finally {
  await parser.destroy();
}
