/// <reference path="../../server/test/livefyre.d.ts" />
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import livefyre from 'livefyre';
import { Network, P4pInputError, buildUserAuthToken, signToken, validateToken } from 'p4p-sdk';
import { parseToken } from '../../server/src/tokens/parse-token.js';

/** The official library insists on names ending with fyre.co. */
const NAME = 'labs.fyre.co';
const KEY = 'network-key-for-tests';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('tokens: byte-compatible with the official livefyre library', () => {
  const official = livefyre.getNetwork(NAME, KEY);
  const network = new Network({ name: NAME, key: KEY });

  it('re-signing the claims of an official token gives the very same token', () => {
    for (const token of [official.buildLivefyreToken(), official.buildUserAuthToken('ada.l_1-x', 'Ada Lovelace', 3600)]) {
      assert.equal(signToken(claimsOf(token), KEY), token);
    }
  });

  it('writes the claims in the order and form the official library does', () => {
    const token = network.buildUserAuthToken('ada', 'Ada', 60);
    const officialToken = official.buildUserAuthToken('ada', 'Ada', 60);
    assert.equal(token.split('.')[0], officialToken.split('.')[0]);
    assert.deepEqual(Object.keys(claimsOf(token)), Object.keys(claimsOf(officialToken)));
    const claims = claimsOf(token);
    assert.equal(claims.domain, NAME);
    assert.equal(claims.user_id, 'ada');
    assert.equal(claims.display_name, 'Ada');
    assert.ok(Math.abs((claims.expires as number) - (Date.now() / 1000 + 60)) < 5);
    assert.equal(claims.iat, Math.floor(claims.iat as number));
  });

  it('official system tokens validate here; official user tokens are not system tokens', () => {
    assert.equal(network.validateLivefyreToken(official.buildLivefyreToken()), true);
    assert.equal(validateToken(official.buildUserAuthToken('bob', 'Bob', 60), KEY), true);
    assert.equal(network.validateLivefyreToken(official.buildUserAuthToken('bob', 'Bob', 60)), false);
  });

  it('system tokens built here validate in the official library; user tokens do not (not system)', () => {
    assert.equal(official.validateLivefyreToken(network.buildLivefyreToken()), true);
    assert.equal(official.validateLivefyreToken(network.buildUserAuthToken('system', 'system', 120)), true);
    assert.equal(official.validateLivefyreToken(network.buildUserAuthToken('bob', 'Bob', 120)), false);
  });

  it('a token of another network or key is refused on both sides', () => {
    const otherName = new Network({ name: 'other.fyre.co', key: KEY }).buildLivefyreToken();
    const otherKey = new Network({ name: NAME, key: 'another-key' }).buildLivefyreToken();
    assert.equal(network.validateLivefyreToken(otherName), false);
    assert.equal(official.validateLivefyreToken(otherName), false);
    assert.equal(network.validateLivefyreToken(otherKey), false);
    assert.throws(() => official.validateLivefyreToken(otherKey), /invalid signature/);
  });
});

describe('tokens: validation', () => {
  const network = new Network({ name: NAME, key: KEY });
  const nowMs = Date.now();

  it('never throws on junk and answers false', () => {
    const token = network.buildLivefyreToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const junk: unknown[] = [
      undefined, null, 42, {}, [], '', 'a.b', 'a.b.c', 'a.b.c.d', '...', token + 'x', token.slice(0, -1),
      `${header}.${payload}.`, `${header}.${payload}`, `${header}..${signature}`, 'x'.repeat(10_000),
      `${header}.${payload}.${signature.slice(0, -1)}B`, `${header}.${payload.slice(0, -1)}!.${signature}`,
    ];
    for (const value of junk) assert.equal(network.validateLivefyreToken(value), false, String(value).slice(0, 40));
  });

  it('refuses alg none and other algorithms even with the right claims', () => {
    const claims = claimsOf(network.buildLivefyreToken());
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    for (const header of [{ alg: 'none', typ: 'JWT' }, { alg: 'HS512', typ: 'JWT' }, { alg: 'hs256' }]) {
      const head = Buffer.from(JSON.stringify(header)).toString('base64url');
      const real = signToken(claims, KEY).split('.')[2];
      assert.equal(validateToken(`${head}.${payload}.${real}`, KEY), false, header.alg);
      assert.equal(validateToken(`${head}.${payload}.`, KEY), false, header.alg);
    }
  });

  it('accepts the other common header spelling, {"alg":"HS256","typ":"JWT"}', () => {
    const head = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from(JSON.stringify({ domain: NAME, user_id: 'system', expires: nowMs / 1000 + 60 })).toString('base64url');
    const signature = createHmac('sha256', KEY).update(`${head}.${payload}`).digest('base64url');
    assert.equal(network.validateLivefyreToken(`${head}.${payload}.${signature}`), true);
  });

  it('allows 60 s of clock skew past expires, not more; enforces exp when present', () => {
    const at = (expires: number, extra: Record<string, unknown> = {}) =>
      signToken({ domain: NAME, user_id: 'system', expires, ...extra }, KEY);
    assert.equal(validateToken(at(nowMs / 1000 - 59), KEY, nowMs), true);
    assert.equal(validateToken(at(nowMs / 1000 - 61), KEY, nowMs), false);
    assert.equal(validateToken(at(nowMs / 1000 + 60, { exp: nowMs / 1000 - 120 }), KEY, nowMs), false);
    assert.equal(validateToken(signToken({ domain: NAME, user_id: 'system', exp: nowMs / 1000 + 60 }, KEY), KEY, nowMs), false);
  });

  it('an official system token expires after its day, with the same 60 s of skew', () => {
    const builtAt = Date.now();
    const token = livefyre.getNetwork(NAME, KEY).buildLivefyreToken();
    const dayMs = 86_400_000;
    assert.equal(validateToken(token, KEY, builtAt + dayMs + 59_000), true);
    assert.equal(validateToken(token, KEY, builtAt + dayMs + 61_000 + (Date.now() - builtAt)), false);
  });

  it('agrees with the p4p server on iat and exp: a finite number when present', () => {
    const expires = nowMs / 1000 + 60;
    for (const extra of [{ iat: '1700000000' }, { iat: null }, { iat: true }, { iat: {} }, { exp: '9999999999' }]) {
      const token = signToken({ domain: NAME, user_id: 'system', expires, ...extra }, KEY);
      assert.equal(validateToken(token, KEY, nowMs), false, JSON.stringify(extra));
      assert.equal(parseToken(token).ok, false, `the server refuses ${JSON.stringify(extra)} too`);
    }
    const numeric = signToken({ domain: NAME, user_id: 'system', expires, iat: Math.floor(nowMs / 1000) }, KEY);
    assert.equal(validateToken(numeric, KEY, nowMs), true);
    assert.equal(parseToken(numeric).ok, true);
  });
});

describe('tokens: input checks', () => {
  const network = new Network({ name: NAME, key: KEY });

  it('refuses bad user ids, long display names and non-numeric expiries with what to fix', () => {
    assert.throws(() => network.buildUserAuthToken('ada lovelace', 'Ada', 60), (error: unknown) =>
      error instanceof P4pInputError && /user id must be 1–255 characters of A-Z a-z 0-9 _ \. -; got "ada lovelace"/.test(error.message));
    assert.throws(() => network.buildUserAuthToken('', 'Ada', 60), P4pInputError);
    assert.throws(() => network.buildUserAuthToken('a'.repeat(256), 'Ada', 60), P4pInputError);
    assert.throws(() => network.buildUserAuthToken('ada', 'x'.repeat(51), 60), /displayName is 51 characters; at most 50/);
    assert.throws(() => network.buildUserAuthToken('ada', 'Ada\u001b[31m', 60), /displayName must be text on one line.*got U\+001B at character 4/);
    assert.throws(() => network.buildUserAuthToken('ada', 'Ada \ud800', 60), /got U\+D800 at character 5/);
    assert.ok(network.buildUserAuthToken('ada', '😀'.repeat(50), 60), 'code points are counted, not UTF-16 units');
    assert.throws(() => network.buildUserAuthToken('ada', 'Ada', '60' as unknown as number), /expiresInSeconds must be a whole number of seconds above 0, got "60"/);
    for (const bad of [Number.NaN, Infinity, 0, -5, 1.5]) {
      assert.throws(() => network.buildUserAuthToken('ada', 'Ada', bad), /expiresInSeconds must be/);
    }
  });

  it('refuses a network name or key that p4p would refuse, saying which rule', () => {
    for (const name of ['', 'Labs.Fyre.co', 'labs.fyre.co\n', 'localhost']) {
      assert.throws(() => new Network({ name, key: KEY }), /is not domain-like; use lowercase labels joined by dots/, JSON.stringify(name));
    }
    assert.throws(() => new Network({ name: NAME, key: '' }), /network key must be 1–512 characters \(got 0\)/);
    assert.throws(() => new Network({ name: NAME, key: 'x'.repeat(513) }), /network key must be 1–512 characters \(got 513\)/);
    for (const key of [`${KEY}\n`, 'a key', 'tab\tkey']) {
      assert.throws(() => new Network({ name: NAME, key }), /network key must be printable characters without spaces or line breaks/, JSON.stringify(key));
    }
    assert.doesNotThrow(() => new Network({ name: NAME, key: 'clé-réseau-🔑' }), 'a non-ASCII key, as Livefyre networks may have');
    assert.throws(() => buildUserAuthToken(NAME, '', 'ada', 'Ada', 60), P4pInputError);
    assert.throws(() => new Network({ name: NAME, key: KEY, url: 'p4p.example.com' }), /url must be the absolute http\(s\) base URL/);
    const leaked = (() => {
      try {
        return new Network({ name: NAME, key: KEY, url: 'ftp://user:s3cr3t@p4p.example.com/' });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    assert.match(String(leaked), /got "ftp:\/\/\[redacted\]@p4p\.example\.com\/"$/);
    assert.throws(() => new Network({ name: NAME, key: KEY, url: 'https://user:pass@p4p.example.com' }), /url must not carry a user name or password/);
    assert.throws(() => new Network({ name: NAME, key: KEY, url: 10n as never }), /got bigint$/);
    assert.throws(() => new Network({ name: NAME, key: KEY, uri: 'https://p4p.example.com' } as never), /"uri" is not a Network option; the options are name, key, url, retry/);
  });
});
