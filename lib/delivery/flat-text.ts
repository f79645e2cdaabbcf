/**
 * The same ASCII text, as one piece. Text built by concatenation (node's randomUUID() joins 20 pieces) is a tree of
 * pieces, 32 bytes each, that V8 joins only when the text is read: a queue holding 100 000 message ids would keep
 * every piece. A copy through bytes is one flat string, and one the optimiser cannot leave out.
 */
export function flatAscii (text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1')
}
