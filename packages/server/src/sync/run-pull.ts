import { changedFields } from '../profile/changed-fields.js';
import { validateProfile } from '../profile/validate-profile.js';
import type { PullCancellation } from '../pull/pull-cancellation.js';
import type { PullAnswer, PullClient } from '../pull/pull-client.js';
import type { PullOutcome } from '../pull/pull-outcome.js';
import { buildPullUrl } from '../pull/pull-url.js';
import type { ClaimedPull, PullCompletion } from '../store/store.js';
import { nextRetryAt, type RetryPolicy } from './retry-policy.js';
import type { SystemTokens } from './system-tokens.js';

/** Characters of an answer kept with its attempt, for debugging. */
export const RESPONSE_EXCERPT_CHARS = 4096;

export interface PullRunContext {
  client: PullClient;
  retryPolicy: RetryPolicy;
  /** The lftoken sent with each pull. */
  tokens: SystemTokens;
  now: () => number;
}

export interface PullRun {
  completion: PullCompletion;
  /** How the endpoint behaved, for the endpoint breaker. */
  answer: { retriable: boolean; retryAfterMs: number | null; startedAt: number };
}

interface Judgement {
  outcome: PullOutcome;
  message: string | null;
  warnings: string[];
  newVersion: PullCompletion['newVersion'];
}

/** Turns a 200 answer's body into a stored profile, or says exactly why not. */
function judgeBody(claim: ClaimedPull, body: string): Judgement {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    return { outcome: 'invalid_response', message: `the answer is not JSON: ${(error as Error).message}`, warnings: [], newVersion: null };
  }
  const check = validateProfile(raw, claim.userId);
  if (!check.ok) return { outcome: 'invalid_response', message: check.reason, warnings: check.warnings, newVersion: null };
  const changed = changedFields(claim.currentProfile, check.profile);
  if (changed.length === 0) return { outcome: 'unchanged', message: null, warnings: check.warnings, newVersion: null };
  return { outcome: 'ok', message: null, warnings: check.warnings, newVersion: { profile: check.profile, changed } };
}

function judge(claim: ClaimedPull, answer: PullAnswer): Judgement {
  if (answer.kind === 'body') return judgeBody(claim, answer.body);
  return { outcome: answer.outcome, message: answer.message, warnings: [], newVersion: null };
}

/** One pull of a claimed user: sign, fetch, validate, and decide what the store records. `cancellation` can cut it short. */
export async function runPull(claim: ClaimedPull, context: PullRunContext, cancellation?: PullCancellation): Promise<PullRun> {
  const { network, userId } = claim;
  const startedAt = context.now();
  const token = context.tokens.tokenFor(network, startedAt);
  const answer = await context.client.pull(buildPullUrl(network.pullUrlTemplate!, userId, token), cancellation);
  const judgement = judge(claim, answer);
  const retriable = answer.kind === 'failed' && answer.retriable;
  const retryAfterMs = answer.kind === 'failed' ? answer.retryAfterMs : null;
  const finishedAt = context.now();
  const retryAt = nextRetryAt(context.retryPolicy, claim.attempt, { retriable, retryAfterMs }, finishedAt);
  const gaveUp = retriable && retryAt === null;
  const excerpt = answer.kind === 'body' ? answer.body : answer.bodyExcerpt;
  return {
    answer: { retriable, retryAfterMs, startedAt },
    completion: {
      attempt: {
        at: startedAt,
        outcome: judgement.outcome,
        httpStatus: answer.kind === 'body' ? 200 : answer.httpStatus,
        durationMs: answer.durationMs,
        message: gaveUp ? `gave up after ${claim.attempt} attempts: ${judgement.message}` : judgement.message,
        warnings: judgement.warnings,
        // An endpoint that echoes its request would otherwise store a live system token.
        responseExcerpt: excerpt === null ? null : excerpt.slice(0, RESPONSE_EXCERPT_CHARS).replaceAll(token, '[redacted]'),
      },
      newVersion: judgement.newVersion,
      retryAt,
      gaveUp,
    },
  };
}
