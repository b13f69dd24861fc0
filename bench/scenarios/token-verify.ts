import { Buffer } from 'node:buffer';
import { createHmac, createSecretKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { hmacSha256Base64url } from '../../packages/server/src/tokens/hmac-sha256.js';
import { buildSystemToken } from '../../packages/server/src/tokens/sign-token.js';
import { isSystemUser, parseToken, verifyToken } from '../../packages/server/src/tokens/verify-token.js';
import { ratioRow, type ResultRow } from '../support/report.js';
import type { BenchSettings } from '../support/settings.js';

const NETWORK = 'bench.example.com';
const KEY = 'bench-network-key-0123456789abcdef';
/** Timed rounds of each measure; they alternate, so a slow moment of the shared machine hits all of them alike. */
const ROUNDS = 14;

/** µs per item of one round of `work` over `inputs`. */
function microsPerItem(inputs: readonly string[], work: (input: string) => unknown): number {
  const started = performance.now();
  for (const input of inputs) if (work(input) === undefined) throw new Error('no result');
  return ((performance.now() - started) * 1000) / inputs.length;
}

/** The best round of each measure (the least disturbed one), the measures taking turns round by round. */
function bestOfAlternatingRounds(measures: ReadonlyArray<() => number>): number[] {
  const best = measures.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) measures.forEach((measure, index) => (best[index] = Math.min(best[index]!, measure())));
  return best;
}

/**
 * Row 4: the ping route's whole verification of a token string (parse and
 * shape checks, signature with the network's key, domain, expiry, system
 * user) against one raw HMAC-SHA256 digest of the same signed bytes:
 * Node's `createHmac` with a cached KeyObject. Every token is distinct.
 * Verify computes its MAC its own faster way (two SHA-256 digests over the
 * key's precomputed pads, as base64url); the note gives that MAC's time and
 * the ratio against it too, so neither hides the other.
 */
export function tokenVerifyRows(settings: BenchSettings): ResultRow[] {
  const nowMs = Date.now();
  const tokens = Array.from({ length: settings.tokens }, (_, i) => buildSystemToken(NETWORK, KEY, 3600, nowMs + i));
  const signingInputs = tokens.map((token) => token.slice(0, token.lastIndexOf('.')));
  const key = createSecretKey(Buffer.from(KEY, 'utf8'));
  const keys = [KEY];
  const verify = (token: string): unknown => {
    const parsed = parseToken(token);
    if (!parsed.ok) throw new Error(parsed.message);
    const verified = verifyToken(parsed, { keys, networkName: NETWORK, nowMs });
    if (!verified.ok || !isSystemUser(verified.claims)) throw new Error('token did not verify');
    return verified;
  };
  const rawHmac = (signingInput: string): unknown => createHmac('sha256', key).update(signingInput).digest();
  const verifysMac = (signingInput: string): unknown => hmacSha256Base64url(KEY, signingInput);

  const parseOnly = (token: string): unknown => parseToken(token);

  const [hmacMicros, verifyMicros, parseMicros, verifysMacMicros] = bestOfAlternatingRounds([
    () => microsPerItem(signingInputs, rawHmac),
    () => microsPerItem(tokens, verify),
    () => microsPerItem(tokens, parseOnly),
    () => microsPerItem(signingInputs, verifysMac),
  ]) as [number, number, number, number];
  return [
    ratioRow('4 token verification (parse + verify, distinct tokens) ÷ raw HMAC-SHA256', 'µs/token', verifyMicros, hmacMicros, '<=', 1.3,
      `of which parseToken (shape, base64url, JSON.parse, claims) ${parseMicros.toFixed(2)} µs; ` +
        `the MAC verify computes ${verifysMacMicros.toFixed(2)} µs (ratio ${(verifyMicros / verifysMacMicros).toFixed(2)} against it); ` +
        `${tokens.length.toLocaleString('en-US')} tokens`),
  ];
}
