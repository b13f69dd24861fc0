import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Network } from '../src/store/store.js';
import { SystemTokens } from '../src/sync/system-tokens.js';
import { parseToken } from '../src/tokens/parse-token.js';
import { isSystemUser, verifyToken } from '../src/tokens/verify-token.js';

const T0 = Date.UTC(2026, 0, 1);
const TTL_SECONDS = 300;

function network(keys: string[]): Network {
  return { id: 7, name: 'acme.fyre.co', keys, owners: [], pullUrlTemplate: null, createdAt: T0, updatedAt: T0 };
}

/** Asserts the token is a valid system token of `net` at `nowMs` and returns its expiry in Unix ms. */
function expiresAt(token: string, net: Network, nowMs: number): number {
  const parsed = parseToken(token);
  assert.ok(parsed.ok, `token does not parse: ${JSON.stringify(parsed)}`);
  const verified = verifyToken(parsed, { keys: net.keys, networkName: net.name, nowMs });
  assert.ok(verified.ok, `token does not verify: ${JSON.stringify(verified)}`);
  assert.ok(isSystemUser(verified.claims));
  return verified.claims.expires * 1000;
}

test('a network keeps one system token while more than half of its lifetime is left', () => {
  const tokens = new SystemTokens(TTL_SECONDS);
  const net = network(['key-1']);
  const first = tokens.tokenFor(net, T0);
  assert.equal(expiresAt(first, net, T0), T0 + TTL_SECONDS * 1000);
  const halfLife = (TTL_SECONDS * 1000) / 2;
  assert.equal(tokens.tokenFor(net, T0 + halfLife - 1), first);
  const renewed = tokens.tokenFor(net, T0 + halfLife);
  assert.notEqual(renewed, first);
  assert.equal(expiresAt(renewed, net, T0 + halfLife), T0 + halfLife + TTL_SECONDS * 1000);
});

test('a key rotation signs a new token with the new key at once', () => {
  const tokens = new SystemTokens(TTL_SECONDS);
  const first = tokens.tokenFor(network(['key-1']), T0);
  const rotated = network(['key-2', 'key-1']);
  const next = tokens.tokenFor(rotated, T0 + 1);
  assert.notEqual(next, first);
  expiresAt(next, network(['key-2']), T0 + 1);
});

test('networks get tokens of their own', () => {
  const tokens = new SystemTokens(TTL_SECONDS);
  const acme = network(['key-1']);
  const other = { ...network(['key-9']), id: 8, name: 'other.fyre.co' };
  const acmeToken = tokens.tokenFor(acme, T0);
  const otherToken = tokens.tokenFor(other, T0);
  assert.notEqual(acmeToken, otherToken);
  expiresAt(otherToken, other, T0);
  assert.equal(tokens.tokenFor(acme, T0 + 1), acmeToken);
});
