/**
 * PDF documents (letters, right-of-access exports) drawn with pdfkit and its bundled standard
 * fonts (Helvetica), read from the installed package: nothing is downloaded at run time. These
 * fonts speak WinAnsi, which holds French (é è à ç œ « » ’ …); the few spaces and dashes that
 * French formatting brings from outside it are mapped to their nearest WinAnsi character.
 */
export type PdfDocument = PDFKit.PDFDocument;

const OUTSIDE_WIN_ANSI: Record<string, string> = {
  '\u202f': ' ', // narrow no-break space (Intl's French dates and numbers)
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u2011': '-',
  '\u2010': '-',
  '\u2212': '-',
};

/** Text as the standard fonts can draw it. */
export function pdfText(s: string): string {
  return s.replace(/[\u202f\u00a0\u2009\u2011\u2010\u2212]/g, (c) => OUTSIDE_WIN_ANSI[c]);
}

/** Renders a document drawn by `draw` into a buffer (A4, 2 cm margins, French metadata). */
export async function renderPdf(
  info: { title: string; author: string },
  draw: (doc: PdfDocument) => void,
): Promise<Buffer> {
  // pdfkit and its fonts load with the first document, not with every process that never draws
  // one (a large part of a second: it was the heaviest module the app loaded at start).
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margin: 57,
      lang: 'fr-FR',
      info: { Title: pdfText(info.title), Author: pdfText(info.author) },
      bufferPages: true,
    });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      doc.font('Helvetica');
      draw(doc);
      doc.end();
    } catch (err) {
      reject(err as Error);
    }
  });
}
