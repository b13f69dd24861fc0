import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateProfile as serverValidateProfile } from 'p4p';
import { validateProfile } from 'p4p-sdk';

describe('validateProfile (the rules of spec section 6; the server test suite covers each rule)', () => {
  it('is the very function p4p validates pulled profiles with', () => {
    assert.equal(serverValidateProfile, validateProfile);
  });

  it('without a pinged user id, id must be a valid user id', () => {
    const ok = validateProfile({ id: 'ada.l', display_name: '  Ada  ', moderator: 'TRUE' });
    assert.deepEqual(ok, { ok: true, profile: { id: 'ada.l', display_name: 'Ada', moderator: true }, warnings: [] });
    assert.deepEqual(validateProfile({ id: 'ada l', display_name: 'Ada' }), {
      ok: false,
      reason: 'id must be a string: the user id must be 1–255 characters of A-Z a-z 0-9 _ . -; got "ada l"',
      warnings: [],
    });
    assert.deepEqual(validateProfile({ id: 42, display_name: 'Ada' }), {
      ok: false,
      reason: 'id must be a string: the user id must be 1–255 characters of A-Z a-z 0-9 _ . -; got number',
      warnings: [],
    });
  });

  it('names each problem precisely and keeps the rest', () => {
    const check = validateProfile({
      id: 'ada',
      display_name: 'Ada',
      email: 'not an address',
      image_url: 'javascript:alert(1)',
      email_notifications: { comments: 'daily', likes: 'never' },
      websites: ['https://a.example', 'https://b.example', 'https://c.example'],
      favourite_colour: 'blue',
    });
    assert.deepEqual(check, {
      ok: true,
      profile: { id: 'ada', display_name: 'Ada', email_notifications: { likes: 'never' }, websites: ['https://a.example', 'https://b.example'] },
      warnings: [
        'email: not a plausible e-mail address (one @, no spaces or control characters, at most 254 characters); field dropped',
        'image_url: not an absolute http(s) URL of at most 2048 characters; field dropped',
        'email_notifications.comments: must be one of immediately, often, never; dropped',
        'websites: at most 2 allowed; 1 extra dropped',
        'unknown fields ignored: "favourite_colour"',
      ],
    });
  });
});
