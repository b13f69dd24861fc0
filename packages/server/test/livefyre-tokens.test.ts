import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import livefyre from 'livefyre';
import { buildSystemToken, signToken } from '../src/tokens/sign-token.js';
import { isSystemUser, parseToken, verifyToken, type TokenFailure } from '../src/tokens/verify-token.js';

const NETWORK = 'labs.fyre.co';
const KEYS = {
  ascii: 'labs-network-key-2024',
  'non-ASCII': 'clé-réseau-ß-秘密-🔑',
};

/** Our verify path, at the real current time (the official library reads the clock itself). */
function ourVerify(token: string, keys: readonly string[], networkName = NETWORK) {
  const parsed = parseToken(token);
  if (!parsed.ok) return parsed;
  return verifyToken(parsed, { keys, networkName, nowMs: Date.now() });
}

/** The official validator throws on a bad signature; count that as a rejection. */
function officialAccepts(token: string, key: string, networkName = NETWORK): boolean {
  try {
    return livefyre.getNetwork(networkName, key).validateLivefyreToken(token);
  } catch {
    return false;
  }
}

const segment = (token: string, index: number): string => token.split('.')[index] ?? '';

for (const [kind, key] of Object.entries(KEYS)) {
  describe(`official livefyre 2.0.9 tokens, ${kind} key`, () => {
    const network = livefyre.getNetwork(NETWORK, key);

    it('buildLivefyreToken verifies with ours as a system token', () => {
      const beforeS = Date.now() / 1000;
      const result = ourVerify(network.buildLivefyreToken(), [key]);
      assert.equal(result.ok, true, result.ok ? '' : result.message);
      assert.ok(result.ok);
      const { claims } = result;
      assert.equal(claims.domain, NETWORK);
      assert.equal(claims.user_id, 'system');
      assert.equal(claims.display_name, 'system');
      assert.ok(claims.expires >= beforeS + 86400 && claims.expires <= Date.now() / 1000 + 86400);
      assert.equal(typeof claims.iat, 'number');
      assert.ok(Math.abs((claims.iat ?? 0) - beforeS) <= 2);
      assert.equal(isSystemUser(claims), true);
    });

    it('buildUserAuthToken reads back with fractional expires', () => {
      const beforeS = Date.now() / 1000;
      const result = ourVerify(network.buildUserAuthToken('alice', 'Alice', 3600), [key]);
      assert.ok(result.ok, result.ok ? '' : result.message);
      const { claims } = result;
      assert.deepEqual(
        { domain: claims.domain, user_id: claims.user_id, display_name: claims.display_name },
        { domain: NETWORK, user_id: 'alice', display_name: 'Alice' },
      );
      assert.ok(claims.expires >= beforeS + 3600 && claims.expires <= Date.now() / 1000 + 3600);
      assert.equal(isSystemUser(claims), false);
      assert.equal(isSystemUser(claims, ['alice']), true);
    });

    it('official tokens verify with the previous key during a rotation', () => {
      assert.equal(ourVerify(network.buildLivefyreToken(), ['the-new-key', key]).ok, true);
    });

    it('official tokens fail with ours under another key or network', () => {
      const token = network.buildLivefyreToken();
      const wrongKey = ourVerify(token, [`${key}x`]) as TokenFailure;
      assert.equal(wrongKey.code, 'token_invalid');
      const wrongNetwork = ourVerify(token, [key], 'other.fyre.co') as TokenFailure;
      assert.equal(wrongNetwork.code, 'token_wrong_network');
    });

    it('an expired official token is rejected as expired', () => {
      const result = ourVerify(network.buildUserAuthToken('alice', 'Alice', -120), [key]) as TokenFailure;
      assert.equal(result.code, 'token_expired');
    });

    it('our buildSystemToken passes the official validateLivefyreToken', () => {
      assert.equal(network.validateLivefyreToken(buildSystemToken(NETWORK, key, 3600)), true);
    });

    it('our token signed with another key fails the official validator', () => {
      const token = buildSystemToken(NETWORK, `another-${key}`, 3600);
      assert.throws(() => network.validateLivefyreToken(token), /invalid signature/);
      assert.equal(officialAccepts(token, key), false);
    });

    it('the official validator agrees with ours on domain, user and expiry', () => {
      assert.equal(officialAccepts(buildSystemToken('other.fyre.co', key, 3600), key), false);
      assert.equal(officialAccepts(buildSystemToken(NETWORK, key, 1, Date.now() - 10_000), key), false);
      const userToken = signToken({ domain: NETWORK, user_id: 'alice', display_name: 'Alice', expires: Date.now() / 1000 + 60 }, key);
      assert.equal(officialAccepts(userToken, key), false);
      assert.equal(ourVerify(userToken, [key]).ok, true);
    });

    it('our tokens are byte-for-byte shaped like the official ones', () => {
      const official = network.buildLivefyreToken();
      const ours = buildSystemToken(NETWORK, key, 86400);
      assert.equal(segment(ours, 0), segment(official, 0));
      const keysOf = (token: string): string[] => Object.keys(JSON.parse(Buffer.from(segment(token, 1), 'base64url').toString()));
      assert.deepEqual(keysOf(ours), keysOf(official));
    });

    it('our signToken reproduces an official token exactly from its claims', () => {
      const official = network.buildUserAuthToken('alice', 'Alice', 3600);
      const parsed = parseToken(official);
      assert.ok(parsed.ok);
      assert.equal(signToken(parsed.claims, key), official);
    });
  });
}
