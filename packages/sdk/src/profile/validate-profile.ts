/**
 * Validation and normalisation of the profile JSON an identity system answers
 * a pull with (spec section 6).
 *
 * What a failure costs:
 * - `id` or `display_name` failing its rule rejects the whole answer, with a
 *   `reason` naming the field and the rule; the stored profile stays as it was.
 * - An optional field failing its rule is dropped and a warning names it; the
 *   rest of the profile is kept, so one bad link never blocks a name change.
 * - Containers lose only their bad parts: a bad element of `tags`/`websites`,
 *   or a bad or unknown key of `name`/`email_notifications`/`display_rules`,
 *   is dropped with a warning and the container keeps its valid parts (possibly
 *   none). A container of the wrong type (not an array / not an object) is
 *   dropped whole.
 * - Beyond the caps (`websites` 2, `tags` 100), the first valid elements are
 *   kept and the remaining ones dropped, unchecked, with one warning. After
 *   {@link MAX_BAD_ELEMENTS} bad elements in one array, its remaining elements
 *   are dropped unchecked too, with one warning: each failing check costs
 *   little, but a 256 KiB answer could otherwise hold 100 000 of them.
 * - `null` for an optional field or key means "not sent": dropped silently.
 *   `null` as an array element is a bad element.
 * - Unknown top-level fields are ignored, with one warning naming up to 10.
 * - Warnings are capped at {@link MAX_WARNINGS}, plus one line counting the rest.
 *
 * Never throws: a hostile input (getters, proxies) that makes reading it throw
 * yields a rejection. Only own properties of the input are read, and outputs
 * are built from fixed key lists, so no `__proto__` or other stray key can
 * reach them.
 */
import {
  BIO_RULE,
  BOOLEAN_RULE,
  controlCharacterIn,
  countChars,
  DISPLAY_NAME_MAX_CHARS,
  DISPLAY_NAME_MIN_CHARS,
  EMAIL_RULE,
  FREQUENCY_RULE,
  isInvisible,
  LOCATION_RULE,
  MAX_TAGS,
  MAX_WEBSITES,
  NAME_PART_RULE,
  TAG_RULE,
  URL_RULE,
  type FieldRule,
} from './field-rules.js';
import {
  DISPLAY_RULE_FIELDS,
  NAME_PARTS,
  NOTIFICATION_KINDS,
  PROFILE_FIELDS,
  type Profile,
} from './profile.js';
import { quoteText } from '../quote-text.js';
import { USER_ID_PATTERN, USER_ID_RULE } from '../tokens.js';

/** Result of {@link validateProfile}. `warnings` lists what was dropped, in input order. */
export type ProfileCheck =
  | { ok: true; profile: Profile; warnings: string[] }
  | { ok: false; reason: string; warnings: string[] };

/** Most warnings listed for one answer; the rest are counted in one extra line. */
export const MAX_WARNINGS = 50;
/** Most bad elements of one array checked and reported; the rest are dropped unchecked. */
export const MAX_BAD_ELEMENTS = 20;
/** Most unknown field or key names listed in a warning. */
const MAX_UNKNOWN_NAMES = 10;
/** Longest quoted input value (an id, a field name) in a reason or warning, in characters. */
const MAX_QUOTED_CHARS = 64;

type JsonObject = Record<string, unknown>;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(PROFILE_FIELDS);

/** An object field with a fixed key set, each value checked by one rule. */
interface KeyedField<K extends string, T> {
  readonly field: string;
  readonly keys: readonly K[];
  readonly known: ReadonlySet<string>;
  readonly rule: FieldRule<T>;
}

function keyedField<K extends string, T>(field: string, keys: readonly K[], rule: FieldRule<T>): KeyedField<K, T> {
  return { field, keys, known: new Set(keys), rule };
}

const NAME_FIELD = keyedField('name', NAME_PARTS, NAME_PART_RULE);
const EMAIL_NOTIFICATIONS_FIELD = keyedField('email_notifications', NOTIFICATION_KINDS, FREQUENCY_RULE);
const DISPLAY_RULES_FIELD = keyedField('display_rules', DISPLAY_RULE_FIELDS, BOOLEAN_RULE);

/**
 * Checks a profile against the rules of spec section 6, exactly as p4p does
 * when it pulls one, and returns its normalised form, or why it was rejected.
 * @param raw the already JSON-parsed response body
 * @param expectedUserId the id of the user that was pinged; `raw.id` must equal it.
 *   Without it, `raw.id` must be a valid user id ({@link USER_ID_PATTERN}).
 */
export function validateProfile(raw: unknown, expectedUserId?: string): ProfileCheck {
  const warnings = new WarningList();
  try {
    return checkProfile(raw, expectedUserId, warnings);
  } catch (error) {
    const detail = error instanceof Error ? error.name : typeOf(error);
    return {
      ok: false,
      reason: `profile could not be read (${quote(detail)} thrown while reading it)`,
      warnings: warnings.list(),
    };
  }
}

function checkProfile(raw: unknown, expectedUserId: string | undefined, warnings: WarningList): ProfileCheck {
  if (!isPlainObject(raw)) {
    return { ok: false, reason: `profile must be a JSON object; got ${typeOf(raw)}`, warnings: [] };
  }

  const id = own(raw, 'id');
  if (expectedUserId === undefined) {
    if (typeof id !== 'string' || !USER_ID_PATTERN.test(id)) {
      const reason = `id must be a string: the ${USER_ID_RULE}; got ${typeof id === 'string' ? quote(id) : typeOf(id)}`;
      return { ok: false, reason, warnings: [] };
    }
  } else if (typeof id !== 'string') {
    const reason = `id must be a string equal to the pinged user id ${quote(expectedUserId)}; got ${typeOf(id)}`;
    return { ok: false, reason, warnings: [] };
  } else if (id !== expectedUserId) {
    const reason = `id must equal the pinged user id ${quote(expectedUserId)}; got ${quote(id)}`;
    return { ok: false, reason, warnings: [] };
  }

  const rawName = own(raw, 'display_name');
  const displayName = typeof rawName === 'string' ? rawName.trim() : undefined;
  const nameChars = displayName === undefined ? 0 : countChars(displayName);
  if (displayName === undefined || nameChars < DISPLAY_NAME_MIN_CHARS || nameChars > DISPLAY_NAME_MAX_CHARS) {
    const got = displayName === undefined ? typeOf(rawName) : String(nameChars);
    const reason = `display_name must be a string of ${DISPLAY_NAME_MIN_CHARS}–${DISPLAY_NAME_MAX_CHARS} characters after trimming; got ${got}`;
    return { ok: false, reason, warnings: [] };
  }
  const nameProblem = displayNameTextProblem(displayName);
  if (nameProblem !== null) return { ok: false, reason: nameProblem, warnings: [] };

  const profile: Profile = { id, display_name: displayName };
  set(profile, 'name', keyed(raw, NAME_FIELD, warnings));
  set(profile, 'email', scalar(raw, 'email', EMAIL_RULE, warnings));
  set(profile, 'image_url', scalar(raw, 'image_url', URL_RULE, warnings));
  set(profile, 'profile_url', scalar(raw, 'profile_url', URL_RULE, warnings));
  set(profile, 'settings_url', scalar(raw, 'settings_url', URL_RULE, warnings));
  set(profile, 'tags', list(raw, 'tags', TAG_RULE, MAX_TAGS, warnings));
  set(profile, 'autofollow_conversations', scalar(raw, 'autofollow_conversations', BOOLEAN_RULE, warnings));
  set(profile, 'email_notifications', keyed(raw, EMAIL_NOTIFICATIONS_FIELD, warnings));
  set(profile, 'location', scalar(raw, 'location', LOCATION_RULE, warnings));
  set(profile, 'bio', scalar(raw, 'bio', BIO_RULE, warnings));
  set(profile, 'websites', list(raw, 'websites', URL_RULE, MAX_WEBSITES, warnings));
  set(profile, 'display_rules', keyed(raw, DISPLAY_RULES_FIELD, warnings));
  set(profile, 'moderator', scalar(raw, 'moderator', BOOLEAN_RULE, warnings));
  set(profile, 'gravatar_disabled', scalar(raw, 'gravatar_disabled', BOOLEAN_RULE, warnings));

  warnUnknown(raw, KNOWN_FIELDS, 'unknown fields ignored', warnings);
  return { ok: true, profile, warnings: warnings.list() };
}

/** Apps show display_name as the user's name: it must be visible, one-line text. */
function displayNameTextProblem(displayName: string): string | null {
  const control = controlCharacterIn(displayName);
  if (control !== null) return `display_name must be text on one line, without control characters or unpaired surrogates; got ${control}`;
  if (isInvisible(displayName)) return 'display_name must have a visible character; got only spaces or invisible format characters';
  return null;
}

function set<K extends keyof Profile>(profile: Profile, key: K, value: Profile[K] | undefined): void {
  if (value !== undefined) profile[key] = value;
}

/** A single-valued field: kept if it passes `rule`, else dropped with a warning. */
function scalar<T>(raw: JsonObject, field: string, rule: FieldRule<T>, warnings: WarningList): T | undefined {
  const value = own(raw, field);
  if (value === undefined || value === null) return undefined;
  const parsed = rule.parse(value);
  if (parsed !== undefined) return parsed;
  warnings.add(`${field}: ${rule.rule}${gotType(value)}; field dropped`);
  return undefined;
}

/** An array field: bad elements dropped one by one; at most `max` valid ones kept, at most {@link MAX_BAD_ELEMENTS} bad ones checked. */
function list<T>(
  raw: JsonObject,
  field: string,
  rule: FieldRule<T>,
  max: number,
  warnings: WarningList,
): T[] | undefined {
  const value = own(raw, field);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    warnings.add(`${field}: must be an array (got ${typeOf(value)}); field dropped`);
    return undefined;
  }
  const kept: T[] = [];
  let bad = 0;
  for (let i = 0; i < value.length; i++) {
    if (kept.length === max) {
      warnings.add(`${field}: at most ${max} allowed; ${value.length - i} extra dropped`);
      break;
    }
    if (bad === MAX_BAD_ELEMENTS) {
      warnings.add(`${field}: more than ${MAX_BAD_ELEMENTS} invalid elements; ${value.length - i} remaining dropped unchecked`);
      break;
    }
    const element: unknown = value[i];
    const parsed = rule.parse(element);
    if (parsed !== undefined) {
      kept.push(parsed);
    } else {
      bad++;
      warnings.add(`${field}[${i}]: ${rule.rule}${gotType(element)}; dropped`);
    }
  }
  return kept;
}

/** An object field with a fixed key set: bad or unknown keys dropped one by one. */
function keyed<K extends string, T>(
  raw: JsonObject,
  { field, keys, known, rule }: KeyedField<K, T>,
  warnings: WarningList,
): Partial<Record<K, T>> | undefined {
  const value = own(raw, field);
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    warnings.add(`${field}: must be an object (got ${typeOf(value)}); field dropped`);
    return undefined;
  }
  const kept: Partial<Record<K, T>> = {};
  for (const key of keys) {
    const member = own(value, key);
    if (member === undefined || member === null) continue;
    const parsed = rule.parse(member);
    if (parsed !== undefined) kept[key] = parsed;
    else warnings.add(`${field}.${key}: ${rule.rule}${gotType(member)}; dropped`);
  }
  warnUnknown(value, known, `${field}: unknown keys ignored`, warnings);
  return kept;
}

function warnUnknown(value: JsonObject, known: ReadonlySet<string>, prefix: string, warnings: WarningList): void {
  const unknown: string[] = [];
  let extra = 0;
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue;
    if (unknown.length < MAX_UNKNOWN_NAMES) unknown.push(quote(key));
    else extra++;
  }
  if (unknown.length === 0) return;
  warnings.add(`${prefix}: ${unknown.join(', ')}${extra > 0 ? ` and ${extra} more` : ''}`);
}

class WarningList {
  readonly #items: string[] = [];
  #omitted = 0;

  add(warning: string): void {
    if (this.#items.length < MAX_WARNINGS) this.#items.push(warning);
    else this.#omitted++;
  }

  list(): string[] {
    if (this.#omitted === 0) return this.#items;
    return [...this.#items, `${this.#omitted} more warnings omitted`];
  }
}

function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Own property only: an inherited (or polluted) prototype property never counts as sent. */
function own(value: JsonObject, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function gotType(value: unknown): string {
  return typeof value === 'string' ? '' : ` (got ${typeOf(value)})`;
}

/** JSON-quoted, truncated to {@link MAX_QUOTED_CHARS} characters, so any input is safe to log and show. */
function quote(text: string): string {
  return quoteText(text, MAX_QUOTED_CHARS);
}
