/**
 * Leaf rules of the profile JSON (spec section 6): one check per kind of
 * value, each paired with the sentence a warning or rejection reason quotes.
 * Plain functions, so the SDK needs no runtime dependency; the p4p server
 * validates pulled profiles with these same rules.
 */
import { NOTIFICATION_FREQUENCIES, type NotificationFrequency } from './profile.js';

/** A leaf rule: `parse` returns the normalised value, or `undefined` when the value breaks the rule. */
export interface FieldRule<T> {
  readonly parse: (value: unknown) => T | undefined;
  /** The rule in words, e.g. "not an absolute http(s) URL …". */
  readonly rule: string;
}

/** Longest URL stored, in UTF-16 code units. */
export const MAX_URL_CHARS = 2048;
/** Longest e-mail address stored, in UTF-16 code units (RFC 5321 path limit). */
export const MAX_EMAIL_CHARS = 254;
/** Bounds of `display_name` after trimming, in characters (code points). */
export const DISPLAY_NAME_MIN_CHARS = 1;
export const DISPLAY_NAME_MAX_CHARS = 150;
/** Most `websites` kept. */
export const MAX_WEBSITES = 2;
/** Most `tags` kept. */
export const MAX_TAGS = 100;

/**
 * Whether `text` has at most `max` characters, counting code points so an emoji
 * counts once. Cheap: only strings between max and 2×max code units are walked.
 */
export function fitsChars(text: string, max: number): boolean {
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  return countChars(text) <= max;
}

/** Number of code points in `text`. */
export function countChars(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

// Scheme checked on the raw text, so nothing but http(s) can ever be stored,
// and no whitespace or control characters that the URL parser would quietly strip.
const HTTP_URL_SHAPE = /^https?:\/\/[^\s\u0000-\u001f\u007f]+$/i;

function isAbsoluteHttpUrl(text: string): boolean {
  if (!HTTP_URL_SHAPE.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}

/** A rule for strings that pass `test`. */
function stringRule(rule: string, test: (text: string) => boolean): FieldRule<string> {
  return { parse: (value) => (typeof value === 'string' && test(value) ? value : undefined), rule };
}

/**
 * Characters that are not text to show: C0 and C1 controls and DEL, and
 * unpaired surrogates (not Unicode at all; strict JSON parsers refuse them).
 * A multi-line text may hold tabs and line breaks.
 */
const NOT_SINGLE_LINE_TEXT = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;
const NOT_MULTI_LINE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\p{Cs}/u;

/** Where `text` holds a control character or an unpaired surrogate, e.g. "U+0007 at character 4", or null. */
export function controlCharacterIn(text: string, multiLine = false): string | null {
  const found = (multiLine ? NOT_MULTI_LINE_TEXT : NOT_SINGLE_LINE_TEXT).exec(text);
  if (found === null) return null;
  const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${code} at character ${countChars(text.slice(0, found.index)) + 1}`;
}

/** Spaces and default-ignorable characters (zero-width, bidi marks, variation selectors, fillers): a name of only these shows as nothing. */
const INVISIBLE = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

/** Whether `text` has nothing a reader would see. */
export function isInvisible(text: string): boolean {
  return INVISIBLE.test(text);
}

function text(maxChars: number, lines: 'one line' | 'several lines'): FieldRule<string> {
  const multiLine = lines === 'several lines';
  const rule = multiLine
    ? `must be a string of at most ${maxChars} characters, without control characters (tabs and line breaks are fine) or unpaired surrogates`
    : `must be a string of at most ${maxChars} characters on one line, without control characters or unpaired surrogates`;
  return stringRule(rule, (s) => fitsChars(s, maxChars) && controlCharacterIn(s, multiLine) === null);
}

export const NAME_PART_RULE = text(150, 'one line');
export const LOCATION_RULE = text(255, 'one line');
export const BIO_RULE = text(5000, 'several lines');

export const URL_RULE = stringRule(
  `not an absolute http(s) URL of at most ${MAX_URL_CHARS} characters`,
  (s) => s.length <= MAX_URL_CHARS && isAbsoluteHttpUrl(s),
);

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
export const EMAIL_RULE = stringRule(
  `not a plausible e-mail address (one @, no spaces or control characters, at most ${MAX_EMAIL_CHARS} characters)`,
  (s) => s.length <= MAX_EMAIL_CHARS && EMAIL_SHAPE.test(s) && controlCharacterIn(s) === null,
);

const TAG_SHAPE = /^[A-Za-z0-9_]{1,63}$/;
export const TAG_RULE = stringRule('must be 1–63 characters of A–Z, a–z, 0–9 or _', (s) => TAG_SHAPE.test(s));

const BOOLEAN_STRING = /^\s*(?:true|false)\s*$/i;
/** JSON booleans, and the strings "true"/"false" (any case, surrounding spaces) that the spec's own example sends. */
export const BOOLEAN_RULE: FieldRule<boolean> = {
  parse: (value) => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && BOOLEAN_STRING.test(value)) return value.trim().toLowerCase() === 'true';
    return undefined;
  },
  rule: 'must be a boolean or the string "true" or "false"',
};

export const FREQUENCY_RULE: FieldRule<NotificationFrequency> = {
  parse: (value) => NOTIFICATION_FREQUENCIES.find((frequency) => frequency === value),
  rule: `must be one of ${NOTIFICATION_FREQUENCIES.join(', ')}`,
};
