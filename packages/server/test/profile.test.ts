import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedFields } from '../src/profile/changed-fields.js';
import { DISPLAY_RULE_FIELDS, NOTIFICATION_KINDS, type Profile } from '../src/profile/profile.js';
import { MAX_BAD_ELEMENTS, MAX_WARNINGS, validateProfile, type ProfileCheck } from '../src/profile/validate-profile.js';

const USER_ID = '1234567890';

/** The example of spec section 6, as the identity system sends it. */
const SPEC_EXAMPLE_JSON = `{
  "id": "1234567890",
  "display_name": "Ada L.",
  "name": {"formatted": "Ada King Lovelace", "first": "Ada", "last": "Lovelace"},
  "email": "ada@example.com",
  "image_url": "https://example.com/avatars/ada-1700000000.jpg",
  "profile_url": "https://example.com/u/ada",
  "tags": ["subscriber", "power_user"],
  "autofollow_conversations": "true",
  "email_notifications": {"comments": "never", "replies": "immediately", "likes": "often",
                          "moderator_comments": "never", "moderator_flags": "never"},
  "websites": ["https://ada.example.org"],
  "display_rules": {"bio": "false", "location": "true"}
}`;

function specExample(): Record<string, unknown> {
  return JSON.parse(SPEC_EXAMPLE_JSON) as Record<string, unknown>;
}

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: USER_ID, display_name: 'Ada', ...extra };
}

function accepted(check: ProfileCheck): { profile: Profile; warnings: string[] } {
  assert.equal(check.ok, true, check.ok ? '' : `rejected: ${check.reason}`);
  return check as { ok: true; profile: Profile; warnings: string[] };
}

function rejected(check: ProfileCheck): string {
  assert.equal(check.ok, false, 'expected a rejection');
  return (check as { ok: false; reason: string }).reason;
}

/** Validates `minimal(extra)` and asserts `field` was dropped with one warning matching `warning`. */
function assertDropped(extra: Record<string, unknown>, field: keyof Profile, warning: RegExp): void {
  const { profile, warnings } = accepted(validateProfile(minimal({ bio: 'kept', ...extra }), USER_ID));
  assert.equal(Object.hasOwn(profile, field), false, `${field} should be dropped`);
  assert.equal(profile.display_name, 'Ada');
  assert.equal(profile.bio, 'kept');
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(warnings[0]!, warning);
}

describe('validateProfile: the spec example', () => {
  it('passes and normalises string booleans to booleans', () => {
    const { profile, warnings } = accepted(validateProfile(specExample(), USER_ID));
    assert.deepEqual(warnings, []);
    assert.deepEqual(profile, {
      id: '1234567890',
      display_name: 'Ada L.',
      name: { formatted: 'Ada King Lovelace', first: 'Ada', last: 'Lovelace' },
      email: 'ada@example.com',
      image_url: 'https://example.com/avatars/ada-1700000000.jpg',
      profile_url: 'https://example.com/u/ada',
      tags: ['subscriber', 'power_user'],
      autofollow_conversations: true,
      email_notifications: {
        comments: 'never',
        replies: 'immediately',
        likes: 'often',
        moderator_comments: 'never',
        moderator_flags: 'never',
      },
      websites: ['https://ada.example.org'],
      display_rules: { bio: false, location: true },
    });
  });

  it('accepts JSON booleans and case-insensitive string booleans on every boolean field', () => {
    const { profile, warnings } = accepted(
      validateProfile(
        minimal({
          autofollow_conversations: false,
          moderator: 'TRUE',
          gravatar_disabled: 'False',
          display_rules: {
            bio: true,
            location: 'false',
            gender: 'True',
            name: false,
            image: 'true',
            remote_profile_url: 'FALSE',
          },
        }),
        USER_ID,
      ),
    );
    assert.deepEqual(warnings, []);
    assert.equal(profile.autofollow_conversations, false);
    assert.equal(profile.moderator, true);
    assert.equal(profile.gravatar_disabled, false);
    assert.deepEqual(profile.display_rules, {
      bio: true,
      location: false,
      gender: true,
      name: false,
      image: true,
      remote_profile_url: false,
    });
  });

  it('accepts a profile with only the required fields', () => {
    const { profile, warnings } = accepted(validateProfile(minimal(), USER_ID));
    assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada' });
    assert.deepEqual(warnings, []);
  });

  it('stores display_name trimmed and free text as given, unescaped', () => {
    const bio = '  <b>Hello</b> & "bye"  ';
    const { profile } = accepted(
      validateProfile(minimal({ display_name: '  Ada <script>  ', bio, location: ' London ' }), USER_ID),
    );
    assert.equal(profile.display_name, 'Ada <script>');
    assert.equal(profile.bio, bio);
    assert.equal(profile.location, ' London ');
  });

  it('treats null optional fields as not sent, without a warning', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ bio: null, tags: null, name: { first: 'Ada', last: null } }), USER_ID),
    );
    assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada', name: { first: 'Ada' } });
    assert.deepEqual(warnings, []);
  });
});

describe('validateProfile: required fields', () => {
  it('rejects a missing id', () => {
    const { id: _id, ...noId } = minimal();
    assert.match(rejected(validateProfile(noId, USER_ID)), /^id must be a string .*"1234567890"; got undefined$/);
  });

  it('rejects an id that is not a string, even if it looks equal', () => {
    const reason = rejected(validateProfile(minimal({ id: 1234567890 }), USER_ID));
    assert.match(reason, /^id must be a string equal to the pinged user id "1234567890"; got number$/);
  });

  it('rejects an id mismatch, saying what was expected and what came', () => {
    const reason = rejected(validateProfile(minimal({ id: '42' }), USER_ID));
    assert.equal(reason, 'id must equal the pinged user id "1234567890"; got "42"');
  });

  it('truncates a long mismatching id in the reason', () => {
    const reason = rejected(validateProfile(minimal({ id: 'x'.repeat(10_000) }), USER_ID));
    assert.ok(reason.length < 200, `reason too long: ${reason.length}`);
    assert.match(reason, /got "x{64}…"$/);
  });

  it('rejects a missing display_name', () => {
    const reason = rejected(validateProfile({ id: USER_ID }, USER_ID));
    assert.equal(reason, 'display_name must be a string of 1–150 characters after trimming; got undefined');
  });

  it('rejects a display_name that is not a string', () => {
    const reason = rejected(validateProfile(minimal({ display_name: ['Ada'] }), USER_ID));
    assert.equal(reason, 'display_name must be a string of 1–150 characters after trimming; got array');
  });

  it('rejects an empty or blank display_name', () => {
    for (const displayName of ['', '   \t\n ']) {
      const reason = rejected(validateProfile(minimal({ display_name: displayName }), USER_ID));
      assert.equal(reason, 'display_name must be a string of 1–150 characters after trimming; got 0');
    }
  });

  it('rejects a display_name over 150 characters after trimming, accepts exactly 150', () => {
    const reason = rejected(validateProfile(minimal({ display_name: 'a'.repeat(151) }), USER_ID));
    assert.equal(reason, 'display_name must be a string of 1–150 characters after trimming; got 151');
    const { profile } = accepted(validateProfile(minimal({ display_name: ` ${'a'.repeat(150)} ` }), USER_ID));
    assert.equal(profile.display_name, 'a'.repeat(150));
  });

  it('counts characters, not UTF-16 units, in display_name', () => {
    const { profile } = accepted(validateProfile(minimal({ display_name: '😀'.repeat(150) }), USER_ID));
    assert.equal(profile.display_name, '😀'.repeat(150));
    assert.match(rejected(validateProfile(minimal({ display_name: '😀'.repeat(151) }), USER_ID)), /got 151$/);
  });

  it('rejects a display_name with a control character or an unpaired surrogate, saying where', () => {
    const cases: Array<[string, string]> = [
      ['Nul\u0000name', 'U+0000 at character 4'],
      ['\u001b[31mred', 'U+001B at character 1'],
      ['Two\nlines', 'U+000A at character 4'],
      ['Lone \ud800 half', 'U+D800 at character 6'],
      ['😀\udfff', 'U+DFFF at character 2'],
    ];
    for (const [displayName, where] of cases) {
      const reason = rejected(validateProfile(minimal({ display_name: displayName }), USER_ID));
      assert.equal(reason, `display_name must be text on one line, without control characters or unpaired surrogates; got ${where}`);
    }
    assert.equal(accepted(validateProfile(minimal({ display_name: 'Zoë 😀 עברית' }), USER_ID)).profile.display_name, 'Zoë 😀 עברית');
  });

  it('rejects a display_name with nothing visible: zero-width or other format characters only', () => {
    for (const displayName of ['\u200b\u200b', '\u200e', ' \u2060 \ufeff', '\u3164', '\ufe0f', '\u034f']) {
      const reason = rejected(validateProfile(minimal({ display_name: displayName }), USER_ID));
      assert.equal(reason, 'display_name must have a visible character; got only spaces or invisible format characters', JSON.stringify(displayName));
    }
    for (const visible of ['Ada\u200d', '\u0600']) {
      assert.equal(accepted(validateProfile(minimal({ display_name: visible }), USER_ID)).profile.display_name, visible);
    }
  });

  it('drops free text with a control character or an unpaired surrogate; bio may hold tabs and line breaks', () => {
    assertDropped({ location: 'Lon\u0007don' }, 'location', /^location: must be a string of at most 255 characters on one line, without control characters/);
    const named = accepted(validateProfile(minimal({ name: { first: 'A\ud800', last: 'Lovelace' } }), USER_ID));
    assert.deepEqual(named.profile.name, { last: 'Lovelace' });
    assert.match(named.warnings[0]!, /^name\.first: must be a string of at most 150 characters on one line/);
    assertDropped({ email: 'a\u0000@example.com' }, 'email', /^email: not a plausible e-mail address/);
    const { profile, warnings } = accepted(validateProfile(minimal({ bio: 'line one\n\tline two\r\n' }), USER_ID));
    assert.equal(profile.bio, 'line one\n\tline two\r\n');
    assert.deepEqual(warnings, []);
    const dropped = accepted(validateProfile(minimal({ bio: 'bell\u0007' }), USER_ID));
    assert.equal(dropped.profile.bio, undefined);
    assert.match(dropped.warnings[0]!, /^bio: must be a string of at most 5000 characters, without control characters \(tabs and line breaks are fine\)/);
  });

  it('rejects even when optional fields are fine, and keeps nothing', () => {
    const check = validateProfile({ ...specExample(), display_name: '' }, USER_ID);
    assert.equal(check.ok, false);
    assert.equal('profile' in check, false);
  });
});

describe('validateProfile: non-object inputs', () => {
  const cases: [string, unknown, string][] = [
    ['null', null, 'null'],
    ['an array', [minimal()], 'array'],
    ['a string', JSON.stringify(minimal()), 'string'],
    ['a number', 1234567890, 'number'],
    ['a boolean', true, 'boolean'],
    ['undefined', undefined, 'undefined'],
  ];
  for (const [label, input, type] of cases) {
    it(`rejects ${label}`, () => {
      const check = validateProfile(input, USER_ID);
      assert.deepEqual(check, { ok: false, reason: `profile must be a JSON object; got ${type}`, warnings: [] });
    });
  }

  it('rejects objects that are not plain (class instances, Map)', () => {
    assert.equal(validateProfile(new Map(Object.entries(minimal())), USER_ID).ok, false);
    assert.equal(validateProfile(new Date(), USER_ID).ok, false);
  });
});

describe('validateProfile: optional fields are dropped with a warning, the rest kept', () => {
  it('drops a bad email', () => {
    for (const email of ['ada', 'ada@@example.com', 'a@b@c', 'ada @example.com', `${'a'.repeat(250)}@ex.com`, 42]) {
      assertDropped({ email }, 'email', /^email: not a plausible e-mail address .*; field dropped$/);
    }
  });

  it('drops bad URL fields', () => {
    for (const field of ['image_url', 'profile_url', 'settings_url'] as const) {
      for (const url of ['/avatars/a.jpg', 'example.com/a.jpg', 'ftp://example.com/a', 'https://', 'https://exa mple.com/']) {
        assertDropped({ [field]: url }, field, new RegExp(`^${field}: not an absolute http\\(s\\) URL .*; field dropped$`));
      }
    }
  });

  it('drops URLs over 2048 characters, keeps one of exactly 2048', () => {
    const base = 'https://example.com/';
    assertDropped({ image_url: base + 'a'.repeat(2049 - base.length) }, 'image_url', /^image_url: not an absolute/);
    const { profile } = accepted(validateProfile(minimal({ image_url: base + 'a'.repeat(2048 - base.length) }), USER_ID));
    assert.equal(profile.image_url?.length, 2048);
  });

  it('accepts http and HTTPS schemes, stored as given', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ profile_url: 'http://example.com/u/ada', settings_url: 'HTTPS://Example.com/s' }), USER_ID),
    );
    assert.deepEqual(warnings, []);
    assert.equal(profile.profile_url, 'http://example.com/u/ada');
    assert.equal(profile.settings_url, 'HTTPS://Example.com/s');
  });

  it('drops bad name parts one by one and ignores unknown name keys', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ name: { first: 'Ada', middle: 7, last: 'x'.repeat(151), nick: 'A' } }), USER_ID),
    );
    assert.deepEqual(profile.name, { first: 'Ada' });
    assert.deepEqual(warnings, [
      'name.middle: must be a string of at most 150 characters on one line, without control characters or unpaired surrogates (got number); dropped',
      'name.last: must be a string of at most 150 characters on one line, without control characters or unpaired surrogates; dropped',
      'name: unknown keys ignored: "nick"',
    ]);
  });

  it('drops a name that is not an object', () => {
    assertDropped({ name: 'Ada Lovelace' }, 'name', /^name: must be an object \(got string\); field dropped$/);
  });

  it('drops bad tags one by one, keeping the valid ones', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ tags: ['ok_1', 'has-dash', '', 'a'.repeat(64), 5, 'a'.repeat(63)] }), USER_ID),
    );
    assert.deepEqual(profile.tags, ['ok_1', 'a'.repeat(63)]);
    assert.deepEqual(warnings, [
      'tags[1]: must be 1–63 characters of A–Z, a–z, 0–9 or _; dropped',
      'tags[2]: must be 1–63 characters of A–Z, a–z, 0–9 or _; dropped',
      'tags[3]: must be 1–63 characters of A–Z, a–z, 0–9 or _; dropped',
      'tags[4]: must be 1–63 characters of A–Z, a–z, 0–9 or _ (got number); dropped',
    ]);
  });

  it('keeps at most 100 tags', () => {
    const tags = Array.from({ length: 105 }, (_, i) => `t${i}`);
    const { profile, warnings } = accepted(validateProfile(minimal({ tags }), USER_ID));
    assert.deepEqual(profile.tags, tags.slice(0, 100));
    assert.deepEqual(warnings, ['tags: at most 100 allowed; 5 extra dropped']);
  });

  it('drops tags that are not an array', () => {
    assertDropped({ tags: 'subscriber' }, 'tags', /^tags: must be an array \(got string\); field dropped$/);
  });

  it('drops a bad boolean', () => {
    for (const field of ['autofollow_conversations', 'moderator', 'gravatar_disabled'] as const) {
      for (const value of ['yes', 1, 0, '', {}]) {
        assertDropped({ [field]: value }, field, new RegExp(`^${field}: must be a boolean or the string "true" or "false"`));
      }
    }
  });

  it('drops bad email_notifications entries and unknown kinds', () => {
    const { profile, warnings } = accepted(
      validateProfile(
        minimal({ email_notifications: { comments: 'often', replies: 'sometimes', likes: 'NEVER', mentions: 'never' } }),
        USER_ID,
      ),
    );
    assert.deepEqual(profile.email_notifications, { comments: 'often' });
    assert.deepEqual(warnings, [
      'email_notifications.replies: must be one of immediately, often, never; dropped',
      'email_notifications.likes: must be one of immediately, often, never; dropped',
      'email_notifications: unknown keys ignored: "mentions"',
    ]);
  });

  it('drops bad display_rules entries and unknown keys', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ display_rules: { bio: 'true', image: 'maybe', email: true } }), USER_ID),
    );
    assert.deepEqual(profile.display_rules, { bio: true });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^display_rules\.image: must be a boolean .*; dropped$/);
    assert.equal(warnings[1], 'display_rules: unknown keys ignored: "email"');
  });

  it('drops display_rules and email_notifications that are not objects', () => {
    assertDropped({ display_rules: [true] }, 'display_rules', /^display_rules: must be an object \(got array\); field dropped$/);
    assertDropped({ email_notifications: 'never' }, 'email_notifications', /^email_notifications: must be an object \(got string\)/);
  });

  it('drops location over 255 and bio over 5000 characters, keeps them at the limit', () => {
    assertDropped({ location: 'x'.repeat(256) }, 'location', /^location: must be a string of at most 255 characters on one line, without control characters or unpaired surrogates; field dropped$/);
    const { profile, warnings } = accepted(
      validateProfile(minimal({ location: 'x'.repeat(255), bio: 'y'.repeat(5001) }), USER_ID),
    );
    assert.equal(profile.location, 'x'.repeat(255));
    assert.equal(profile.bio, undefined);
    assert.deepEqual(warnings, ['bio: must be a string of at most 5000 characters, without control characters (tabs and line breaks are fine) or unpaired surrogates; field dropped']);
    assert.equal(accepted(validateProfile(minimal({ bio: 'y'.repeat(5000) }), USER_ID)).profile.bio?.length, 5000);
  });

  it('drops free text that is not a string', () => {
    assertDropped({ location: { city: 'London' } }, 'location', /^location: .* \(got object\); field dropped$/);
  });

  it('keeps every valid field when several optional ones fail', () => {
    const raw = { ...specExample(), email: 'nope', image_url: 'javascript:alert(1)', moderator: 'sure' };
    const { profile, warnings } = accepted(validateProfile(raw, USER_ID));
    assert.equal(warnings.length, 3);
    assert.equal(profile.email, undefined);
    assert.equal(profile.image_url, undefined);
    assert.equal(profile.moderator, undefined);
    assert.equal(profile.display_name, 'Ada L.');
    assert.deepEqual(profile.tags, ['subscriber', 'power_user']);
    assert.equal(profile.autofollow_conversations, true);
  });

  it('ignores unknown top-level fields with one warning naming at most 10', () => {
    const extra = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`extra${i}`, i]));
    const { profile, warnings } = accepted(validateProfile(minimal(extra), USER_ID));
    assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada' });
    assert.equal(warnings.length, 1);
    const names = Array.from({ length: 10 }, (_, i) => `"extra${i}"`).join(', ');
    assert.equal(warnings[0], `unknown fields ignored: ${names} and 3 more`);
  });
});

describe('validateProfile: dangerous URLs are never stored', () => {
  const dangerous = [
    'javascript:alert(1)',
    'JavaScript:alert(document.cookie)',
    ' javascript:alert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'data:image/svg+xml,<svg onload=alert(1)>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    '//evil.example/x',
    'https://example.com/\njavascript:alert(1)',
  ];

  it('drops them from every URL field and from websites', () => {
    for (const url of dangerous) {
      const raw = minimal({ image_url: url, profile_url: url, settings_url: url, websites: [url, 'https://ok.example'] });
      const { profile, warnings } = accepted(validateProfile(raw, USER_ID));
      assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada', websites: ['https://ok.example'] }, url);
      assert.equal(warnings.length, 4, url);
      assert.ok(!JSON.stringify(profile).includes(url.trim()), url);
    }
  });
});

describe('validateProfile: websites', () => {
  it('drops a bad website and keeps the good ones', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ websites: ['https://a.example', 'mailto:ada@example.com'] }), USER_ID),
    );
    assert.deepEqual(profile.websites, ['https://a.example']);
    assert.deepEqual(warnings, ['websites[1]: not an absolute http(s) URL of at most 2048 characters; dropped']);
  });

  it('keeps the first 2 valid websites and drops extra ones with a warning', () => {
    const { profile, warnings } = accepted(
      validateProfile(
        minimal({ websites: ['https://a.example', 'https://b.example', 'https://c.example', 'https://d.example'] }),
        USER_ID,
      ),
    );
    assert.deepEqual(profile.websites, ['https://a.example', 'https://b.example']);
    assert.deepEqual(warnings, ['websites: at most 2 allowed; 2 extra dropped']);
  });

  it('counts only valid websites towards the limit of 2', () => {
    const { profile, warnings } = accepted(
      validateProfile(minimal({ websites: ['nope', 'https://a.example', 'https://b.example', 'https://c.example'] }), USER_ID),
    );
    assert.deepEqual(profile.websites, ['https://a.example', 'https://b.example']);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^websites\[0\]: not an absolute/);
    assert.equal(warnings[1], 'websites: at most 2 allowed; 1 extra dropped');
  });
});

describe('validateProfile: hostile input', () => {
  it('does not let __proto__ keys reach the output or pollute prototypes', () => {
    const raw = JSON.parse(
      `{"id":"${USER_ID}","display_name":"Ada","__proto__":{"polluted":true},` +
        `"name":{"__proto__":{"polluted":true},"first":"Ada"},` +
        `"display_rules":{"__proto__":{"bio":true}},"email_notifications":{"constructor":"never"}}`,
    ) as unknown;
    const { profile, warnings } = accepted(validateProfile(raw, USER_ID));
    assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada', name: { first: 'Ada' }, display_rules: {}, email_notifications: {} });
    for (const part of [profile, profile.name, profile.display_rules, profile.email_notifications]) {
      assert.equal(Object.getPrototypeOf(part), Object.prototype);
      assert.equal(Object.hasOwn(part!, '__proto__'), false);
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.ok(warnings.includes('unknown fields ignored: "__proto__"'));
  });

  it('does not take fields from a polluted prototype', () => {
    const raw = Object.create({ bio: 'inherited', display_name: 'Inherited' }) as Record<string, unknown>;
    raw['id'] = USER_ID;
    assert.match(rejected(validateProfile(raw, USER_ID)), /^profile must be a JSON object/);
    const plain = minimal();
    Object.setPrototypeOf(plain, null);
    const { profile } = accepted(validateProfile(plain, USER_ID));
    assert.deepEqual(profile, { id: USER_ID, display_name: 'Ada' });
  });

  it('never throws on getters or proxies that throw', () => {
    const getter = minimal();
    Object.defineProperty(getter, 'bio', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(minimal(), {
      getOwnPropertyDescriptor() {
        throw new TypeError('trap');
      },
    });
    for (const input of [getter, proxy]) {
      const check = validateProfile(input, USER_ID);
      assert.equal(check.ok, false);
      assert.match(rejected(check), /^profile could not be read/);
    }
  });

  it('handles deeply nested and odd values in every field without throwing', () => {
    let nested: unknown = 'deep';
    for (let i = 0; i < 100_000; i++) nested = { a: nested, b: [nested] };
    const odd = [nested, [], {}, 1e308, -0, NaN, Symbol('s'), () => 1, 10n, new Date(0)];
    const fields = ['name', 'email', 'image_url', 'tags', 'autofollow_conversations', 'email_notifications', 'bio', 'websites', 'display_rules', 'moderator'];
    for (const value of odd) {
      const raw = minimal(Object.fromEntries(fields.map((f) => [f, value])));
      const check = validateProfile(raw, USER_ID);
      assert.equal(check.ok, true);
      assert.equal(check.ok && check.profile.display_name, 'Ada');
    }
  });

  it('stops checking an array after 20 bad elements', () => {
    const tags = [...Array.from({ length: 10_000 }, () => 'bad-tag'), 'good'];
    const { profile, warnings } = accepted(validateProfile(minimal({ tags }), USER_ID));
    assert.deepEqual(profile.tags, []);
    assert.equal(warnings.length, MAX_BAD_ELEMENTS + 1);
    assert.equal(warnings[MAX_BAD_ELEMENTS - 1], `tags[${MAX_BAD_ELEMENTS - 1}]: must be 1–63 characters of A–Z, a–z, 0–9 or _; dropped`);
    assert.equal(warnings.at(-1), `tags: more than 20 invalid elements; ${10_001 - MAX_BAD_ELEMENTS} remaining dropped unchecked`);
  });

  it('caps the warning list, counting the rest in one line', () => {
    const bad = Array.from({ length: 30 }, () => 'ftp://x');
    const raw = minimal({
      tags: bad,
      websites: bad,
      email: 'x',
      image_url: 'x',
      profile_url: 'x',
      settings_url: 'x',
      autofollow_conversations: 'x',
      location: 1,
      bio: 1,
      moderator: 'x',
      gravatar_disabled: 'x',
      name: { formatted: 1, first: 1, middle: 1, last: 1 },
      email_notifications: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, 'x'])),
      display_rules: Object.fromEntries(DISPLAY_RULE_FIELDS.map((k) => [k, 'x'])),
    });
    // 9 scalars + 4 name parts + 5 kinds + 6 rules + (20 + 1) tags + (20 + 1) websites = 66 warnings
    const { profile, warnings } = accepted(validateProfile(raw, USER_ID));
    assert.equal(profile.display_name, 'Ada');
    assert.equal(warnings.length, MAX_WARNINGS + 1);
    assert.equal(warnings.at(-1), `${66 - MAX_WARNINGS} more warnings omitted`);
  });
});

describe('changedFields', () => {
  const base: Profile = {
    id: USER_ID,
    display_name: 'Ada',
    tags: ['a', 'b'],
    email_notifications: { comments: 'never', replies: 'often' },
    display_rules: { bio: true },
  };

  it('lists every field of next, sorted, when there is no previous version', () => {
    assert.deepEqual(changedFields(null, base), ['display_name', 'display_rules', 'email_notifications', 'id', 'tags']);
  });

  it('is empty for equal profiles, whatever the key order', () => {
    const reordered: Profile = {
      display_rules: { bio: true },
      email_notifications: { replies: 'often', comments: 'never' },
      tags: ['a', 'b'],
      display_name: 'Ada',
      id: USER_ID,
    };
    assert.deepEqual(changedFields(base, reordered), []);
    assert.deepEqual(changedFields(base, structuredClone(base)), []);
  });

  it('lists a changed scalar', () => {
    assert.deepEqual(changedFields(base, { ...base, display_name: 'Ada L.' }), ['display_name']);
  });

  it('compares nested values deeply', () => {
    const next: Profile = {
      ...base,
      email_notifications: { comments: 'never', replies: 'immediately' },
      display_rules: { bio: true, location: false },
    };
    assert.deepEqual(changedFields(base, next), ['display_rules', 'email_notifications']);
  });

  it('treats array order as significant', () => {
    assert.deepEqual(changedFields(base, { ...base, tags: ['b', 'a'] }), ['tags']);
    assert.deepEqual(changedFields(base, { ...base, tags: ['a'] }), ['tags']);
  });

  it('lists added and removed fields', () => {
    const { tags: _tags, ...withoutTags } = base;
    assert.deepEqual(changedFields(base, { ...withoutTags, bio: 'hi' }), ['bio', 'tags']);
  });

  it('does not confuse false, empty and absent', () => {
    assert.deepEqual(changedFields({ ...base, moderator: false }, base), ['moderator']);
    assert.deepEqual(changedFields(base, { ...base, display_rules: {} }), ['display_rules']);
    assert.deepEqual(changedFields({ ...base, tags: [] }, base), ['tags']);
  });

  it('treats a key holding undefined as absent', () => {
    assert.deepEqual(changedFields(base, { ...base, bio: undefined }), []);
    assert.deepEqual(changedFields(base, { ...base, display_rules: { bio: true, name: undefined } }), []);
  });

  it('agrees with validateProfile output of the same answer pulled twice', () => {
    const first = accepted(validateProfile(specExample(), USER_ID)).profile;
    const second = accepted(validateProfile(specExample(), USER_ID)).profile;
    assert.deepEqual(changedFields(first, second), []);
    const moved = { ...specExample(), image_url: 'https://example.com/avatars/ada-1800000000.jpg' };
    assert.deepEqual(changedFields(first, accepted(validateProfile(moved, USER_ID)).profile), ['image_url']);
  });
});
