import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  HS256_HEADER_B64,
  HS256_HEADER_B64_ALG_FIRST,
  HS256_HEADER_JSON,
  MAX_TOKEN_LENGTH,
} from '../src/tokens/jwt-format.js';
import { hmacSha256Base64url } from '../src/tokens/hmac-sha256.js';
import { buildSystemToken, signToken } from '../src/tokens/sign-token.js';
import { MAX_DISPLAY_NAME_LENGTH, SYSTEM_USER_ID, USER_ID_PATTERN, type TokenClaims } from '../src/tokens/token-claims.js';
import {
  TOKEN_ERROR_CODES,
  isSystemUser,
  parseToken,
  verifyToken,
  type ParsedToken,
  type TokenErrorCode,
  type TokenFailure,
} from '../src/tokens/verify-token.js';

const NETWORK = 'labs.fyre.co';
const KEY = 'current-network-key';
const OLD_KEY = 'previous-network-key';
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const hmac = (input: string, key: string): string => createHmac('sha256', key).update(input).digest('base64url');

/** A token with any header and payload, signed with HMAC-SHA256 unless `signature` is given. */
function rawToken(header: unknown, payload: unknown, key = KEY, signature?: string): string {
  const input = `${b64(typeof header === 'string' ? header : JSON.stringify(header))}.${b64(
    typeof payload === 'string' ? payload : JSON.stringify(payload),
  )}`;
  return `${input}.${signature ?? hmac(input, key)}`;
}

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return { domain: NETWORK, user_id: 'alice', display_name: 'Alice', expires: NOW_S + 3600, ...overrides };
}

function parsed(token: unknown): ParsedToken {
  const result = parseToken(token);
  assert.equal(result.ok, true, result.ok ? '' : result.message);
  return result as ParsedToken;
}

function check(token: unknown, opts: { keys?: string[]; networkName?: string; nowMs?: number; clockSkewSeconds?: number } = {}) {
  const result = parseToken(token);
  if (!result.ok) return result;
  return verifyToken(result, { keys: [KEY], networkName: NETWORK, nowMs: NOW_MS, ...opts });
}

function assertFailure(result: { ok: boolean }, code: TokenErrorCode, message: RegExp): TokenFailure {
  assert.equal(result.ok, false, 'expected a failure');
  const failure = result as TokenFailure;
  assert.equal(failure.code, code, failure.message);
  assert.match(failure.message, message);
  return failure;
}

describe('token format constants', () => {
  it('header constants are the base64url of the JSON they name', () => {
    assert.equal(HS256_HEADER_B64, b64(HS256_HEADER_JSON));
    assert.equal(HS256_HEADER_B64_ALG_FIRST, b64('{"alg":"HS256","typ":"JWT"}'));
  });

  it('claims constants match the spec', () => {
    assert.deepEqual(TOKEN_ERROR_CODES, ['token_invalid', 'token_expired', 'token_wrong_network']);
    assert.equal(SYSTEM_USER_ID, 'system');
    assert.equal(MAX_DISPLAY_NAME_LENGTH, 50);
    assert.ok(USER_ID_PATTERN.test('a'.repeat(255)));
    assert.ok(!USER_ID_PATTERN.test('a'.repeat(256)));
    assert.ok(!USER_ID_PATTERN.test(''));
  });
});

describe('signToken and verifyToken', () => {
  it('round-trips claims', () => {
    const input = claims({ iat: NOW_S });
    const result = check(signToken(input, KEY));
    assert.deepEqual(result, { ok: true, claims: input, keyIndex: 0 });
  });

  it('writes the Livefyre header and payload key order, and a correct HMAC', () => {
    const token = signToken(claims({ iat: 1 }), KEY);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    assert.equal(Buffer.from(header, 'base64url').toString(), '{"typ":"JWT","alg":"HS256"}');
    assert.deepEqual(Object.keys(JSON.parse(Buffer.from(payload, 'base64url').toString())), [
      'domain',
      'user_id',
      'display_name',
      'expires',
      'iat',
    ]);
    assert.equal(signature, hmac(`${header}.${payload}`, KEY));
    assert.doesNotMatch(token, /=/);
  });

  it('omits display_name and iat when absent', () => {
    const token = signToken({ domain: NETWORK, user_id: 'bob', expires: NOW_S + 10 }, KEY);
    const result = check(token);
    assert.deepEqual(result, { ok: true, claims: { domain: NETWORK, user_id: 'bob', expires: NOW_S + 10 }, keyIndex: 0 });
  });

  it('rejects a token signed with another key', () => {
    assertFailure(check(signToken(claims(), 'some-other-key')), 'token_invalid', /signature does not match the key of network 'labs\.fyre\.co'/);
  });

  it('accepts a token signed with the previous key during a rotation, and says which key matched', () => {
    const token = signToken(claims(), OLD_KEY);
    const byOld = check(token, { keys: [KEY, OLD_KEY] });
    assert.equal(byOld.ok && byOld.keyIndex, 1);
    const byCurrent = check(signToken(claims(), KEY), { keys: [KEY, OLD_KEY] });
    assert.equal(byCurrent.ok && byCurrent.keyIndex, 0);
    assertFailure(check(token, { keys: [KEY] }), 'token_invalid', /signature/);
  });

  it('rejects when the network has no usable key', () => {
    assertFailure(check(signToken(claims(), KEY), { keys: [] }), 'token_invalid', /no key/);
    assertFailure(check(signToken(claims(), KEY), { keys: [''] }), 'token_invalid', /no key/);
  });

  it('never verifies against an empty key', () => {
    const input = `${HS256_HEADER_B64}.${b64(JSON.stringify(claims()))}`;
    const token = `${input}.${createHmac('sha256', Buffer.alloc(0)).update(input).digest('base64url')}`;
    assertFailure(check(token, { keys: ['', KEY] }), 'token_invalid', /signature/);
  });

  it('rejects a tampered payload', () => {
    const token = signToken(claims({ user_id: 'alice' }), KEY);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64(JSON.stringify(claims({ user_id: 'system' })))}.${signature}`;
    assertFailure(check(forged), 'token_invalid', /signature does not match/);
  });

  it('rejects a tampered signature', () => {
    const token = signToken(claims(), KEY);
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    assertFailure(check(flipped), 'token_invalid', /signature/);
  });

  it('rejects a non-canonical spelling of a valid signature', () => {
    const token = signToken(claims(), KEY);
    const last = token.at(-1) ?? '';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1] ?? '';
    assert.deepEqual(Buffer.from(sibling.padStart(43, 'A'), 'base64url').length, 32);
    assertFailure(check(token.slice(0, -1) + sibling), 'token_invalid', /not canonical/);
  });

  it('rejects a token for another network, after the signature check', () => {
    const token = signToken(claims({ domain: 'other.fyre.co' }), KEY);
    assertFailure(check(token), 'token_wrong_network', /for network 'other\.fyre\.co', not 'labs\.fyre\.co'/);
    assertFailure(check(signToken(claims({ domain: 'LABS.fyre.co' }), KEY)), 'token_wrong_network', /LABS/);
    assertFailure(check(signToken(claims({ domain: 'other.fyre.co' }), 'wrong')), 'token_invalid', /signature/);
  });

  it('rejects expiry beyond the clock skew and accepts it within', () => {
    const expiredLong = signToken(claims({ expires: NOW_S - 125 }), KEY);
    const failure = assertFailure(check(expiredLong), 'token_expired', /^token expired 125 s ago \(expires 1699999875; 60 s of clock skew allowed\); build a fresh token$/);
    assert.doesNotMatch(failure.message, new RegExp(KEY));
    assert.equal(check(signToken(claims({ expires: NOW_S - 59 }), KEY)).ok, true);
    assertFailure(check(signToken(claims({ expires: NOW_S - 60 }), KEY)), 'token_expired', /expired 60 s ago/);
    assert.equal(check(signToken(claims({ expires: NOW_S - 59 }), KEY), { clockSkewSeconds: 0 }).ok, false);
    assert.equal(check(expiredLong, { clockSkewSeconds: 300 }).ok, true);
  });

  it('handles fractional expires', () => {
    const expires = NOW_S + 0.25;
    const result = check(signToken(claims({ expires }), KEY), { clockSkewSeconds: 0 });
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.claims.expires, expires);
    const justPast = signToken(claims({ expires: NOW_S - 60.5 }), KEY);
    assertFailure(check(justPast), 'token_expired', /expires 1699999939\.5;/);
    assert.equal(check(signToken(claims({ expires: NOW_S - 59.999 }), KEY)).ok, true);
  });

  it("enforces a standard 'exp' claim too, but never in place of 'expires'", () => {
    const both = rawToken(JSON.parse(HS256_HEADER_JSON), { ...claims(), exp: NOW_S - 600 });
    assertFailure(check(both), 'token_expired', /by its standard 'exp' claim/);
    const fresh = rawToken(JSON.parse(HS256_HEADER_JSON), { ...claims(), exp: NOW_S + 600 });
    assert.equal(check(fresh).ok, true);
    const { expires: _omitted, ...withoutExpires } = claims();
    const onlyExp = rawToken(JSON.parse(HS256_HEADER_JSON), { ...withoutExpires, exp: NOW_S + 600 });
    assertFailure(check(onlyExp), 'token_invalid', /no 'expires' claim, only the standard 'exp'/);
    assertFailure(
      check(rawToken(JSON.parse(HS256_HEADER_JSON), { ...claims(), exp: '1' })),
      'token_invalid',
      /'exp' must be a finite number/,
    );
  });

  it('accepts the alg-first header spelling and extra header fields', () => {
    assert.equal(check(rawToken({ alg: 'HS256', typ: 'JWT' }, claims())).ok, true);
    assert.equal(check(rawToken({ alg: 'HS256' }, claims())).ok, true);
    assert.equal(check(rawToken({ typ: 'jwt', alg: 'HS256', kid: 'k1' }, claims())).ok, true);
  });

  it('returns a fresh claims object with only the known claims', () => {
    const token = rawToken(JSON.parse(HS256_HEADER_JSON), { ...claims(), role: 'admin', __proto__: { x: 1 } });
    const result = check(token);
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && Object.keys(result.claims), ['domain', 'user_id', 'display_name', 'expires']);
  });

  it('never throws on a hand-built ParsedToken with a bad signature', () => {
    const good = parsed(signToken(claims(), KEY));
    const options = { keys: [KEY], networkName: NETWORK, nowMs: NOW_MS };
    assertFailure(verifyToken({ ...good, signature: 'abcde' }, options), 'token_invalid', /signature/);
    // Right length, only the last character differs: refused like any other mismatch.
    const lastOff = good.signature.slice(0, -1) + (good.signature.endsWith('A') ? 'E' : 'A');
    assertFailure(verifyToken({ ...good, signature: lastOff }, options), 'token_invalid', /signature/);
    assert.equal(verifyToken(good, options).ok, true);
  });
});

describe('the MAC verify computes', () => {
  // Short, one block exactly, over a block (hashed first), non-ASCII, control and DEL bytes.
  const keys = ['k', KEY, 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(200), 'clé-ü-鍵', '\u0001\u001f\u007f', '\u007f'.repeat(64)];
  const messages = ['', 'a', `${HS256_HEADER_B64}.${b64(JSON.stringify(claims()))}`, 'é-ü-鍵-😀', 'm'.repeat(1000)];

  it("is Node's HMAC-SHA256 for every kind of key and message", () => {
    for (const key of keys) for (const message of messages) assert.equal(hmacSha256Base64url(key, message), hmac(message, key), `key ${JSON.stringify(key)}`);
  });

  it('keeps each key apart when calls alternate, and stays right past its cache of keys', () => {
    const many = Array.from({ length: 600 }, (_, i) => `key-${i}`);
    for (let round = 0; round < 2; round++) {
      for (const [i, key] of many.entries()) assert.equal(hmacSha256Base64url(key, messages[i % messages.length]!), hmac(messages[i % messages.length]!, key));
    }
  });

  it('verifies tokens signed with each kind of key, and only with that key', () => {
    for (const [i, key] of keys.entries()) {
      const token = rawToken(JSON.parse(HS256_HEADER_JSON), claims(), key);
      const result = check(token, { keys: [key] });
      assert.equal(result.ok, true, `key ${JSON.stringify(key)}`);
      assertFailure(check(token, { keys: [keys[(i + 1) % keys.length]!] }), 'token_invalid', /signature does not match/);
    }
  });
});

describe('parseToken rejects algorithms other than HS256', () => {
  it("rejects alg 'none' with an empty signature", () => {
    const unsigned = rawToken({ alg: 'none', typ: 'JWT' }, claims(), KEY, '');
    assertFailure(parseToken(unsigned), 'token_invalid', /^token algorithm is 'none'; only HS256 is accepted$/);
    assertFailure(parseToken(rawToken({ alg: 'None' }, claims(), KEY, '')), 'token_invalid', /'None'/);
    assertFailure(parseToken(rawToken({ alg: 'NONE' }, claims(), KEY, '')), 'token_invalid', /'NONE'/);
  });

  it("rejects alg 'none' even with a valid-looking signature", () => {
    assertFailure(parseToken(rawToken({ alg: 'none' }, claims())), 'token_invalid', /'none'/);
  });

  it('rejects HS512 signed with the right key', () => {
    const input = `${b64('{"typ":"JWT","alg":"HS512"}')}.${b64(JSON.stringify(claims()))}`;
    const token = `${input}.${createHmac('sha512', KEY).update(input).digest('base64url')}`;
    assertFailure(parseToken(token), 'token_invalid', /^token algorithm is 'HS512'; only HS256 is accepted$/);
  });

  it("rejects 'hs256' and says the name is case-sensitive", () => {
    assertFailure(parseToken(rawToken({ alg: 'hs256' }, claims())), 'token_invalid', /'hs256'.*case-sensitive/);
    assertFailure(parseToken(rawToken({ alg: 'Hs256' }, claims())), 'token_invalid', /case-sensitive/);
  });

  it('rejects a missing or non-string alg, and RS256', () => {
    assertFailure(parseToken(rawToken({ typ: 'JWT' }, claims())), 'token_invalid', /no 'alg'/);
    assertFailure(parseToken(rawToken({ alg: 256 }, claims())), 'token_invalid', /algorithm is a number/);
    assertFailure(parseToken(rawToken({ alg: 'RS256' }, claims())), 'token_invalid', /'RS256'/);
  });

  it('rejects a typ other than JWT, and crit', () => {
    assertFailure(parseToken(rawToken({ alg: 'HS256', typ: 'JWE' }, claims())), 'token_invalid', /typ\) is 'JWE'/);
    assertFailure(parseToken(rawToken({ alg: 'HS256', typ: 1 }, claims())), 'token_invalid', /typ\) is a number/);
    assertFailure(parseToken(rawToken({ alg: 'HS256', crit: ['b64'], b64: false }, claims())), 'token_invalid', /crit/);
  });

  it('rejects a header that is not a JSON object', () => {
    assertFailure(parseToken(rawToken('not json', claims())), 'token_invalid', /header \(part 1\) is not a base64url-encoded JSON object/);
    assertFailure(parseToken(rawToken('["HS256"]', claims())), 'token_invalid', /header/);
    assertFailure(parseToken(rawToken('null', claims())), 'token_invalid', /header/);
  });

  it('does not echo long or unprintable alg values', () => {
    const failure = assertFailure(parseToken(rawToken({ alg: 'x'.repeat(500) }, claims())), 'token_invalid', /a 500-character string/);
    assert.doesNotMatch(failure.message, /xxxx/);
    assertFailure(parseToken(rawToken({ alg: 'a\nb' }, claims())), 'token_invalid', /a 3-character string/);
  });
});

describe('parseToken rejects garbage', () => {
  const cases: [string, unknown, RegExp][] = [
    ['empty string', '', /token is empty/],
    ['one part', 'abc', /has 1 part separated/],
    ['two parts', 'a.b', /has 2 parts .* exactly 3/],
    ['four parts', 'a.b.c.d', /has 4 parts/],
    ['only dots', '..', /header \(part 1\) is empty/],
    ['empty payload', `${HS256_HEADER_B64}..sig`, /payload \(part 2\) is empty/],
    ['standard base64 characters', `${HS256_HEADER_B64}.ab+/.sig`, /payload \(part 2\) is not base64url/],
    ['padding', `${HS256_HEADER_B64}.abc=.sig`, /not base64url/],
    ['whitespace', ` ${HS256_HEADER_B64}.abc.sig`, /header \(part 1\) is not base64url/],
    ['non-ASCII', `${HS256_HEADER_B64}.é.sig`, /not base64url/],
    ['a short signature', `${HS256_HEADER_B64}.${b64('{}')}.abc`, /signature is 3 base64url characters; an HS256 signature is 43/],
    ['an HS512-length signature', `${HS256_HEADER_B64}.${b64('{}')}.${'A'.repeat(86)}`, /signature is 86/],
    ['an unsigned HS256 token', `${HS256_HEADER_B64}.${b64(JSON.stringify(claims()))}.`, /unsigned \(empty signature\)/],
    ['payload of impossible base64 length', `${HS256_HEADER_B64}.abcde.${'A'.repeat(43)}`, /payload \(part 2\) is not base64url-encoded JSON/],
    ['payload not JSON', `${HS256_HEADER_B64}.${b64('{domain')}.${'A'.repeat(43)}`, /not base64url-encoded JSON/],
    ['payload an array', `${HS256_HEADER_B64}.${b64('[1]')}.${'A'.repeat(43)}`, /payload must be a JSON object, got an array/],
    ['payload null', `${HS256_HEADER_B64}.${b64('null')}.${'A'.repeat(43)}`, /got null/],
    ['payload a string', `${HS256_HEADER_B64}.${b64('"x"')}.${'A'.repeat(43)}`, /got a string/],
    ['a deeply nested payload', `${HS256_HEADER_B64}.${b64('['.repeat(3000) + ']'.repeat(3000))}.${'A'.repeat(43)}`, /got an array/],
    ['huge', `${HS256_HEADER_B64}.${'A'.repeat(MAX_TOKEN_LENGTH)}.${'A'.repeat(43)}`, /characters; at most 8192 are accepted/],
    ['number', 42, /must be a string, got a number/],
    ['null', null, /must be a string, got null/],
    ['undefined', undefined, /must be a string, got undefined$/],
    ['object', { token: 'x' }, /got an object/],
    ['array', ['a', 'b', 'c'], /got an array/],
    ['Buffer', Buffer.from('a.b.c'), /got an object/],
  ];
  for (const [name, token, message] of cases) {
    it(`rejects ${name}`, () => {
      const result = assertFailure(parseToken(token), 'token_invalid', message);
      if (typeof token === 'string' && token.length > 10) assert.ok(!result.message.includes(token));
    });
  }

  it('accepts a token of exactly the maximum length', () => {
    let token = '';
    for (let length = 6000; token.length < MAX_TOKEN_LENGTH; length++) {
      token = signToken(claims({ domain: `${'x'.repeat(length)}.fyre.co` }), KEY);
    }
    assert.equal(token.length, MAX_TOKEN_LENGTH);
    assert.equal(parseToken(token).ok, true);
  });
});

describe('parseToken checks claims', () => {
  const { domain: _d, ...noDomain } = claims();
  const { user_id: _u, ...noUser } = claims();
  const { expires: _e, ...noExpires } = claims();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no domain', noDomain, /no 'domain' claim; set it to the network name/],
    ['a numeric domain', { ...claims(), domain: 7 }, /'domain' must be .* got a number/],
    ['an empty domain', { ...claims(), domain: '' }, /'domain' must be .* non-empty/],
    ['no user_id', noUser, /no 'user_id' claim/],
    ['a numeric user_id', { ...claims(), user_id: 12 }, /'user_id' must be a string, got a number/],
    ['a user_id with a space', { ...claims(), user_id: 'al ice' }, /'user_id' must be 1 to 255 characters of A-Z a-z 0-9 _ \. -/],
    ['a user_id with a slash', { ...claims(), user_id: '../etc' }, /'user_id'/],
    ['a user_id with non-ASCII', { ...claims(), user_id: 'jürgen' }, /'user_id'/],
    ['a user_id with a newline', { ...claims(), user_id: 'alice\n' }, /'user_id'/],
    ['an empty user_id', { ...claims(), user_id: '' }, /'user_id'/],
    ['a 256-character user_id', { ...claims(), user_id: 'u'.repeat(256) }, /'user_id'/],
    ['a numeric display_name', { ...claims(), display_name: 5 }, /'display_name' must be a string when present, got a number/],
    ['a null display_name', { ...claims(), display_name: null }, /'display_name' .* got null/],
    ['no expires', noExpires, /no 'expires' claim; set it to the expiry time in Unix seconds/],
    ['a string expires', { ...claims(), expires: '1700000000' }, /'expires' must be a finite number of Unix seconds, got a string/],
    ['a null expires', { ...claims(), expires: null }, /'expires' .* got null/],
    ['a string iat', { ...claims(), iat: 'now' }, /'iat' must be a finite number/],
  ];
  for (const [name, payload, message] of cases) {
    it(`rejects ${name}`, () => {
      assertFailure(parseToken(rawToken(JSON.parse(HS256_HEADER_JSON), payload)), 'token_invalid', message);
    });
  }

  it('rejects an expires that overflows to Infinity', () => {
    const json = JSON.stringify(claims()).replace(/"expires":[0-9.]+/, '"expires":1e400');
    assertFailure(parseToken(rawToken(JSON.parse(HS256_HEADER_JSON), json)), 'token_invalid', /'expires' must be a finite number .* got Infinity/);
  });

  it('accepts a long display_name from a token (it is informational)', () => {
    const result = check(rawToken(JSON.parse(HS256_HEADER_JSON), { ...claims(), display_name: 'n'.repeat(200) }));
    assert.equal(result.ok, true);
  });

  it('reads domain before the signature is checked', () => {
    const result = parseToken(signToken(claims({ domain: 'other.fyre.co' }), 'unknown-key'));
    assert.equal(result.ok && result.claims.domain, 'other.fyre.co');
  });
});

describe('buildSystemToken', () => {
  it('builds a system token with fractional expires and whole-second iat', () => {
    const nowMs = NOW_MS + 123;
    const result = check(buildSystemToken(NETWORK, KEY, 3600, nowMs));
    assert.deepEqual(result, {
      ok: true,
      claims: { domain: NETWORK, user_id: 'system', display_name: 'system', expires: nowMs / 1000 + 3600, iat: NOW_S },
      keyIndex: 0,
    });
    assert.equal(result.ok && isSystemUser(result.claims), true);
  });

  it('defaults to the current time', () => {
    const before = Date.now() / 1000;
    const result = parsed(buildSystemToken(NETWORK, KEY, 60));
    assert.ok(result.claims.expires >= before + 60 && result.claims.expires <= Date.now() / 1000 + 60);
  });

  it('expires after ttlSeconds plus the skew', () => {
    const token = buildSystemToken(NETWORK, KEY, 10, NOW_MS);
    assert.equal(check(token, { nowMs: NOW_MS + 69_000 }).ok, true);
    assertFailure(check(token, { nowMs: NOW_MS + 71_000 }), 'token_expired', /expired 61 s ago/);
  });

  it('throws TypeError on a bad ttl, time, network name or key (p4p-sdk checks them)', () => {
    assert.throws(() => buildSystemToken(NETWORK, KEY, 0, NOW_MS), /expiresInSeconds must be a whole number of seconds above 0, got 0/);
    assert.throws(() => buildSystemToken(NETWORK, KEY, Number.NaN, NOW_MS), TypeError);
    assert.throws(() => buildSystemToken(NETWORK, KEY, 60, Number.NaN), /nowMs must be a finite/);
    assert.throws(() => buildSystemToken('', KEY, 60, NOW_MS), TypeError);
    assert.throws(() => buildSystemToken(NETWORK, '', 60, NOW_MS), TypeError);
  });
});

describe('isSystemUser', () => {
  it("is true for 'system' and for the network's owners only", () => {
    assert.equal(isSystemUser(claims({ user_id: 'system' })), true);
    assert.equal(isSystemUser(claims({ user_id: 'alice' })), false);
    assert.equal(isSystemUser(claims({ user_id: 'alice' }), ['bob', 'alice']), true);
    assert.equal(isSystemUser(claims({ user_id: 'carol' }), ['bob', 'alice']), false);
    assert.equal(isSystemUser(claims({ user_id: 'Alice' }), ['alice']), false);
    assert.equal(isSystemUser(claims({ user_id: 'system' }), []), true);
  });
});

describe('messages', () => {
  it('never contain the token or a key', () => {
    const secretKey = 'very-secret-network-key';
    const token = signToken(claims({ expires: NOW_S - 1000 }), secretKey);
    const results = [
      check(token, { keys: [secretKey] }),
      check(token, { keys: ['another-secret-key'] }),
      check(token, { keys: [secretKey], networkName: 'other.fyre.co' }),
      parseToken(token.replace('.', '!')),
      parseToken(`${token}.x`),
    ];
    for (const result of results) {
      assert.equal(result.ok, false);
      const { message } = result as TokenFailure;
      assert.ok(!message.includes(secretKey) && !message.includes('another-secret-key'), message);
      for (const part of token.split('.')) assert.ok(!message.includes(part), message);
    }
  });
});
