/**
 * Leaf rules of the profile JSON: one zod schema per kind of value, each paired
 * with the sentence a warning or rejection reason quotes. Built once at module
 * load; `validateProfile` applies them and decides what a failure costs.
 */
import { z } from 'zod';
import { NOTIFICATION_FREQUENCIES } from './profile.js';

/** A leaf schema and the human rule it enforces ("not an absolute http(s) URL …"). */
export interface FieldRule<T> {
  readonly schema: z.ZodType<T>;
  readonly rule: string;
}

/** Longest URL stored, in characters. */
export const MAX_URL_CHARS = 2048;
/** Longest e-mail address stored, in characters (RFC 5321 path limit). */
export const MAX_EMAIL_CHARS = 254;
/** Bounds of `display_name` after trimming, in characters. */
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

function text(maxChars: number): FieldRule<string> {
  return {
    schema: z.string().refine((s) => fitsChars(s, maxChars)),
    rule: `must be a string of at most ${maxChars} characters`,
  };
}

export const NAME_PART_RULE = text(150);
export const LOCATION_RULE = text(255);
export const BIO_RULE = text(5000);

export const URL_RULE: FieldRule<string> = {
  schema: z.string().max(MAX_URL_CHARS).refine(isAbsoluteHttpUrl),
  rule: `not an absolute http(s) URL of at most ${MAX_URL_CHARS} characters`,
};

export const EMAIL_RULE: FieldRule<string> = {
  schema: z.string().max(MAX_EMAIL_CHARS).regex(/^[^\s@]+@[^\s@]+$/),
  rule: `not a plausible e-mail address (one @, no spaces, at most ${MAX_EMAIL_CHARS} characters)`,
};

export const TAG_RULE: FieldRule<string> = {
  schema: z.string().regex(/^[A-Za-z0-9_]{1,63}$/),
  rule: 'must be 1–63 characters of A–Z, a–z, 0–9 or _',
};

export const BOOLEAN_RULE: FieldRule<boolean> = {
  schema: z.union([
    z.boolean(),
    z
      .string()
      .regex(/^\s*(?:true|false)\s*$/i)
      .transform((s) => s.trim().toLowerCase() === 'true'),
  ]),
  rule: 'must be a boolean or the string "true" or "false"',
};

export const FREQUENCY_RULE: FieldRule<(typeof NOTIFICATION_FREQUENCIES)[number]> = {
  schema: z.enum(NOTIFICATION_FREQUENCIES),
  rule: `must be one of ${NOTIFICATION_FREQUENCIES.join(', ')}`,
};
