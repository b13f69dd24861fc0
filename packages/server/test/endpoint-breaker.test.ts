import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EndpointBreaker } from '../src/sync/endpoint-breaker.js';
import { nextRetryAt, retryDelayMs } from '../src/sync/retry-policy.js';

const policy = { threshold: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };
const failure = (startedAt: number, retryAfterMs: number | null = null) => ({ retriable: true, retryAfterMs, startedAt });

describe('the endpoint breaker', () => {
  test('pulls failing together count as one round: sixteen concurrent failures do not pause the network', () => {
    const breaker = new EndpointBreaker(policy);
    for (let i = 0; i < 16; i += 1) breaker.record(1, failure(0), 100 + i);
    assert.deepEqual([...breaker.pausedNetworkIds(200)], []);
  });

  test('pulls that keep the slots full still add a round per pull time, so a dead endpoint gets paused', () => {
    const breaker = new EndpointBreaker(policy);
    // 16 slots, each pull failing 100 ms after it started, a new one starting as each fails (staggered by 10 ms).
    let now = 0;
    for (let i = 0; i < 16 * 4 && breaker.pausedNetworkIds(now).size === 0; i += 1) {
      now = 100 + i * 10;
      breaker.record(1, failure(now - 100), now);
    }
    assert.deepEqual([...breaker.pausedNetworkIds(now)], [1], 'paused after about three pull times');
    assert.ok(now <= 400, `paused only at ${now} ms`);
  });

  test('after threshold failed rounds the network pauses for the base delay, then doubling, capped', () => {
    const breaker = new EndpointBreaker(policy);
    breaker.record(1, failure(0), 100);
    breaker.record(1, failure(100), 200);
    breaker.record(1, failure(200), 300);
    assert.deepEqual([...breaker.pausedNetworkIds(301)], [1]);
    assert.equal(breaker.nextResumeAt(301), 1300);
    breaker.record(1, failure(1300), 1400);
    assert.equal(breaker.nextResumeAt(1401), 3400);
    for (let round = 0; round < 20; round += 1) breaker.record(1, failure(10_000 + round * 2, null), 10_001 + round * 2);
    assert.ok(breaker.nextResumeAt(10_100)! <= 10_100 + 60_000);
  });

  test('a real answer closes it; other networks are never paused by it', () => {
    const breaker = new EndpointBreaker(policy);
    for (let round = 0; round < 3; round += 1) breaker.record(1, failure(round * 100), round * 100 + 50);
    assert.deepEqual([...breaker.pausedNetworkIds(300)], [1]);
    breaker.record(1, { retriable: false, retryAfterMs: null, startedAt: 300 }, 310);
    assert.deepEqual([...breaker.pausedNetworkIds(320)], []);
    assert.equal(breaker.nextResumeAt(320), null);
  });

  test('a Retry-After pauses the network at once, for at most the longest pause', () => {
    const breaker = new EndpointBreaker(policy);
    breaker.record(1, failure(0, 5_000), 10);
    assert.equal(breaker.nextResumeAt(11), 5_010);
    breaker.record(2, failure(0, 3_600_000), 10);
    assert.equal(breaker.nextResumeAt(5_011), 60_010);
  });

  test('reset forgets the failures, e.g. after the pull URL changed', () => {
    const breaker = new EndpointBreaker(policy);
    breaker.record(1, failure(0, 5_000), 10);
    breaker.reset(1);
    assert.deepEqual([...breaker.pausedNetworkIds(11)], []);
  });
});

describe('the retry policy', () => {
  const retry = { baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 4 };

  test('backs off exponentially with ±25 % jitter, capped, never before Retry-After', () => {
    assert.equal(retryDelayMs(retry, 1, null, () => 0), 750);
    assert.equal(retryDelayMs(retry, 1, null, () => 1), 1250);
    assert.equal(retryDelayMs(retry, 3, null, () => 0.5), 4000);
    assert.equal(retryDelayMs(retry, 30, null, () => 0.5), 300_000);
    assert.equal(retryDelayMs(retry, 1, 20_000, () => 0.5), 20_000);
  });

  test('retries only retriable answers, and gives up after the last attempt', () => {
    assert.equal(nextRetryAt(retry, 1, { retriable: false, retryAfterMs: null }, 0), null);
    assert.ok(nextRetryAt(retry, 3, { retriable: true, retryAfterMs: null }, 0)! > 0);
    assert.equal(nextRetryAt(retry, 4, { retriable: true, retryAfterMs: null }, 0), null);
  });
});
