/**
 * The remote profile (spec section 6): the JSON an identity system answers a
 * pull with, and the normalised form p4p stores (what `validateProfile`
 * returns, every field having passed its rule).
 */

/** Notification kinds a profile may set a frequency for (`email_notifications` keys). */
export const NOTIFICATION_KINDS = [
  'comments',
  'replies',
  'likes',
  'moderator_comments',
  'moderator_flags',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** How often e-mail is sent for one notification kind. */
export const NOTIFICATION_FREQUENCIES = ['immediately', 'often', 'never'] as const;
export type NotificationFrequency = (typeof NOTIFICATION_FREQUENCIES)[number];

/** Fields whose visibility to other users `display_rules` controls. */
export const DISPLAY_RULE_FIELDS = [
  'bio',
  'location',
  'gender',
  'name',
  'image',
  'remote_profile_url',
] as const;
export type DisplayRuleField = (typeof DISPLAY_RULE_FIELDS)[number];

/** Sub-fields of `name`. */
export const NAME_PARTS = ['formatted', 'first', 'middle', 'last'] as const;
export type NamePart = (typeof NAME_PARTS)[number];

/**
 * A validated, normalised profile. Text is stored as given (not HTML-escaped:
 * escaping happens wherever it is shown), except `display_name`, which is trimmed.
 * Booleans that arrived as "true"/"false" strings are stored as booleans.
 * An absent optional field means the identity system did not send it (or sent
 * an invalid value, which was dropped with a warning).
 */
export interface Profile {
  /** The user id; always equals the pinged user id. */
  id: string;
  /** 1–150 characters, trimmed. */
  display_name: string;
  /** Each part at most 150 characters. */
  name?: Partial<Record<NamePart, string>>;
  /** Plausible address, at most 254 characters; never shown publicly. */
  email?: string;
  /** Absolute http(s) URL of the avatar, at most 2048 characters. */
  image_url?: string;
  /** Absolute http(s) URL of the user's profile page, at most 2048 characters. */
  profile_url?: string;
  /** Absolute http(s) URL of the user's settings page, at most 2048 characters. */
  settings_url?: string;
  /** User groups; each 1–63 of [A-Za-z0-9_], at most 100, order as given. */
  tags?: string[];
  /** Defaults to true when absent (applied by readers, not stored). */
  autofollow_conversations?: boolean;
  /** Absent kinds send nothing. */
  email_notifications?: Partial<Record<NotificationKind, NotificationFrequency>>;
  /** Free text, at most 255 characters. */
  location?: string;
  /** Free text, at most 5000 characters. */
  bio?: string;
  /** Absolute http(s) URLs, at most 2, each at most 2048 characters. */
  websites?: string[];
  /** Which fields other users may see. */
  display_rules?: Partial<Record<DisplayRuleField, boolean>>;
  /** Moderator across the network. */
  moderator?: boolean;
  /** Don't fall back to a Gravatar when there is no `image_url`. */
  gravatar_disabled?: boolean;
}

/** A boolean as p4p takes it: also the strings "true" and "false" (any case), as the spec's own example sends them. */
export type BooleanInput = boolean | 'true' | 'false';

/**
 * What a pull endpoint may serve: a {@link Profile} whose booleans may also
 * be {@link BooleanInput} strings. p4p stores it as a {@link Profile}
 * (`validateProfile` shows how).
 */
export type ProfileInput = Omit<Profile, 'autofollow_conversations' | 'display_rules' | 'moderator' | 'gravatar_disabled'> & {
  autofollow_conversations?: BooleanInput;
  display_rules?: Partial<Record<DisplayRuleField, BooleanInput>>;
  moderator?: BooleanInput;
  gravatar_disabled?: BooleanInput;
};

/** Every top-level field name a profile may carry, in spec order. */
export const PROFILE_FIELDS = [
  'id',
  'display_name',
  'name',
  'email',
  'image_url',
  'profile_url',
  'settings_url',
  'tags',
  'autofollow_conversations',
  'email_notifications',
  'location',
  'bio',
  'websites',
  'display_rules',
  'moderator',
  'gravatar_disabled',
] as const satisfies readonly (keyof Profile)[];
