import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkCache } from '../src/store/network-cache.js';
import type { Network } from '../src/store/store.js';

function network(template: string | null): Network {
  return { id: 1, name: 'acme.fyre.co', keys: ['k'], owners: [], pullUrlTemplate: template, createdAt: 0, updatedAt: 0 };
}

/** A loader that counts its calls and answers what `current` holds at the time. */
function loader(current: { value: Network | null }) {
  const calls: string[] = [];
  return { calls, load: async (name: string) => (calls.push(name), current.value) };
}

test('a known network is looked up once while it is kept, and again after clear()', async () => {
  const cache = new NetworkCache(60_000);
  const stored = { value: network(null) };
  const { calls, load } = loader(stored);
  assert.equal((await cache.get('acme.fyre.co', load))?.pullUrlTemplate, null);
  stored.value = network('https://id.example/{id}');
  assert.equal((await cache.get('acme.fyre.co', load))?.pullUrlTemplate, null, 'kept: the store was not asked again');
  cache.clear();
  assert.equal((await cache.get('acme.fyre.co', load))?.pullUrlTemplate, 'https://id.example/{id}');
  assert.equal(calls.length, 2);
});

test('an unknown name is never kept, so a network created elsewhere is found at once', async () => {
  const cache = new NetworkCache(60_000);
  const stored: { value: Network | null } = { value: null };
  const { calls, load } = loader(stored);
  assert.equal(await cache.get('acme.fyre.co', load), null);
  stored.value = network(null);
  assert.equal((await cache.get('acme.fyre.co', load))?.id, 1);
  assert.equal(calls.length, 2);
});

test('a lookup that started before clear() does not keep what it read', async () => {
  const cache = new NetworkCache(60_000);
  let release!: (value: Network) => void;
  const slow = cache.get('acme.fyre.co', () => new Promise<Network>((resolve) => (release = resolve)));
  cache.clear();
  release(network(null));
  assert.equal((await slow)?.pullUrlTemplate, null, 'the caller still gets its answer');
  const stored = { value: network('https://id.example/{id}') };
  const { calls, load } = loader(stored);
  assert.equal((await cache.get('acme.fyre.co', load))?.pullUrlTemplate, 'https://id.example/{id}');
  assert.equal(calls.length, 1, 'the stale answer was not kept');
});

test('with a zero lifetime every lookup asks the store', async () => {
  const cache = new NetworkCache(0);
  const { calls, load } = loader({ value: network(null) });
  await cache.get('acme.fyre.co', load);
  await cache.get('acme.fyre.co', load);
  assert.equal(calls.length, 2);
});
