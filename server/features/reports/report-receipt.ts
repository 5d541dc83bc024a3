import crypto from 'node:crypto';

/**
 * Letters and digits a person reads out on the phone without confusion: no 0/O, 1/I/L, nor U.
 * 30 symbols, 8 of them: about 6.6 × 10^11 numbers, drawn at random, so a receipt says nothing
 * of the report, the person or the order reports came in.
 */
const ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';

export const RECEIPT_PATTERN = /^[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}$/;

/** A new receipt number, "K7QM-4XTD"; unique per structure thanks to the table's key. */
export function newReceiptNumber(): string {
  const chars = Array.from({ length: 8 }, () => ALPHABET[crypto.randomInt(ALPHABET.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}
