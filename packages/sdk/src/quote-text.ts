/** Control, invisible or direction-changing characters (JSON.stringify escapes only the C0 ones). */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/** `text` with controls, format characters (bidi overrides, zero-width, tags) and line separators as \uXXXX escapes. */
export function escapeHidden(text: string): string {
  // split(''): UTF-16 units, so a character outside the basic plane gets both of its escapes.
  return text.replace(HIDDEN, (char) => char.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
}

/**
 * Quotes untrusted text for a message or a log line: JSON string syntax, cut
 * to `maxChars`, with hidden characters escaped ({@link escapeHidden}), so a
 * quoted value can neither hide nor reorder the words around it.
 */
export function quoteText(text: string, maxChars: number): string {
  const short = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return escapeHidden(JSON.stringify(short));
}
