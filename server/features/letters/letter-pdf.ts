import { pdfText, renderPdf } from '../../lib/pdf';
import { TIME_ZONE, wallClockOf } from '../../lib/wall-clock';
import type { ResolvedLetterhead } from '../settings/settings-service';

/** What a letter says, in French, beside the letterhead. */
export interface LetterContent {
  letterhead: ResolvedLetterhead;
  recipient: { name: string; addressLines: string[] };
  proposal:
    | { kind: 'meeting'; at: Date; place: string; phone: string | null }
    | { kind: 'call'; phone: string; hours: string | null };
  signer: string;
  date: Date;
}

const longDate = (at: Date) =>
  new Intl.DateTimeFormat('fr-FR', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: TIME_ZONE,
  }).format(at);

const dayDate = (at: Date) =>
  new Intl.DateTimeFormat('fr-FR', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: TIME_ZONE,
  }).format(at);

/** "10 h 30", as a French letter writes a time. */
const frenchTime = (at: Date) => {
  const w = wallClockOf(at);
  return `${w.hour} h ${String(w.minute).padStart(2, '0')}`;
};

/** The letter's paragraphs, apart from its drawing (the page's preview and the tests read them). */
export function letterParagraphs(c: LetterContent): { subject: string; paragraphs: string[] } {
  if (c.proposal.kind === 'meeting') {
    const p = c.proposal;
    return {
      subject: 'Proposition de rendez-vous',
      paragraphs: [
        'Nous n’avons pas réussi à vous joindre ces derniers temps et nous aimerions faire le point avec vous sur votre situation, vos droits et les aides auxquelles vous pourriez prétendre.',
        `Nous vous proposons de nous rencontrer le ${longDate(p.at)} à ${frenchTime(p.at)}, à l’adresse suivante : ${p.place}.`,
        p.phone
          ? `Si ce moment ne vous convient pas, appelez-nous au ${p.phone} : nous en choisirons un autre ensemble.`
          : 'Si ce moment ne vous convient pas, écrivez-nous ou passez nous voir : nous en choisirons un autre ensemble.',
        'Cet entretien est gratuit et confidentiel. Vous pouvez venir accompagné·e de la personne de votre choix.',
      ],
    };
  }
  const p = c.proposal;
  return {
    subject: 'Prenez contact avec nous',
    paragraphs: [
      'Nous n’avons pas réussi à vous joindre ces derniers temps et nous aimerions faire le point avec vous sur votre situation, vos droits et les aides auxquelles vous pourriez prétendre.',
      `Vous pouvez nous appeler au ${p.phone}${p.hours ? `, ${p.hours}` : ''} : nous conviendrons ensemble d’un moment pour échanger, par téléphone ou lors d’un rendez-vous.`,
      'Cet échange est gratuit et confidentiel.',
    ],
  };
}

/** The letter as a printable A4 PDF: letterhead, address block for a window envelope, body. */
export function letterPdf(c: LetterContent): Promise<Buffer> {
  const { subject, paragraphs } = letterParagraphs(c);
  const head = c.letterhead;
  return renderPdf({ title: `${subject} — ${head.name}`, author: head.name }, (doc) => {
    const t = pdfText;
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;

    doc.font('Helvetica-Bold').fontSize(13).text(t(head.name), left, doc.page.margins.top);
    doc.font('Helvetica').fontSize(9.5);
    for (const line of head.addressLines) doc.text(t(line));
    if (head.phone) doc.text(t(`Téléphone : ${head.phone}`));
    if (head.email) doc.text(t(`Courriel : ${head.email}`));

    // The recipient where a window envelope shows it (right half, about 5 cm from the top).
    doc.fontSize(11).text(t(c.recipient.name), left + width / 2, 150, { width: width / 2 });
    for (const line of c.recipient.addressLines) doc.text(t(line), { width: width / 2 });

    doc.text(t(`${head.city ? `${head.city}, le` : 'Le'} ${dayDate(c.date)}`), left, 260, {
      width,
      align: 'right',
    });
    doc.moveDown(2);
    doc.font('Helvetica-Bold').text(t(`Objet : ${subject}`), left, undefined, { width });
    doc.font('Helvetica').moveDown(1.5);
    doc.text(t('Madame, Monsieur,'), { width });
    for (const p of paragraphs) {
      doc.moveDown(0.8);
      doc.text(t(p), { width, align: 'justify' });
    }
    doc.moveDown(0.8);
    doc.text(
      t(
        'Nous vous prions d’agréer, Madame, Monsieur, l’expression de nos salutations les meilleures.',
      ),
      { width, align: 'justify' },
    );
    doc.moveDown(2);
    doc.text(t(c.signer), left + width / 2, undefined, { width: width / 2 });
    doc.text(t(head.name), { width: width / 2 });
  });
}
