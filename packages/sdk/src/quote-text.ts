/** Invisible or direction-changing characters that JSON.stringify leaves as they are. */
const HIDDEN = /[\u0080-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Quotes untrusted text for a message or a log line: JSON string syntax, cut
 * to `maxChars`, with C1 controls, format characters (bidi overrides,
 * zero-width) and line separators escaped as \uXXXX, so a quoted value can
 * neither hide nor reorder the words around it.
 */
export function quoteText(text: string, maxChars: number): string {
  const short = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return JSON.stringify(short).replace(HIDDEN, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
