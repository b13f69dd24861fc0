import type { Profile } from '../profile/profile.js';
import type { PullOutcome } from '../pull/pull-outcome.js';
import type { Network, PullAttempt, SyncState, UserRecord } from './store.js';

/*
 * The rows both adapters' schemas share (the same tables and column names),
 * as JS values: each adapter decodes its own column types first (SQLite's
 * JSON text and 0/1), then maps them to the port's types here.
 */

export interface NetworkRow {
  id: number;
  name: string;
  key: string;
  previous_key: string | null;
  owners: string[];
  pull_url_template: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserRow {
  user_id: string;
  state: SyncState;
  dirty: boolean;
  due_at: number | null;
  attempts: number;
  last_ping_at: number | null;
  last_pull_at: number | null;
  last_outcome: PullOutcome | null;
  last_message: string | null;
  profile: Profile | null;
  version: number;
  updated_at: number | null;
}

export interface AttemptRow {
  at: number;
  outcome: PullOutcome;
  http_status: number | null;
  duration_ms: number;
  message: string | null;
  warnings: string[];
  response_excerpt: string | null;
}

export function networkFromRow(row: NetworkRow): Network {
  return {
    id: row.id,
    name: row.name,
    keys: row.previous_key === null ? [row.key] : [row.key, row.previous_key],
    owners: row.owners,
    pullUrlTemplate: row.pull_url_template,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function userRecordFromRow(row: UserRow): UserRecord {
  return {
    userId: row.user_id,
    profile: row.profile,
    version: row.version,
    updatedAt: row.updated_at,
    sync: {
      state: row.state,
      dirty: row.dirty,
      dueAt: row.due_at,
      attempts: row.attempts,
      lastPingAt: row.last_ping_at,
      lastPullAt: row.last_pull_at,
      lastOutcome: row.last_outcome,
      lastMessage: row.last_message,
    },
  };
}

export function attemptFromRow(row: AttemptRow): PullAttempt {
  return {
    at: row.at,
    outcome: row.outcome,
    httpStatus: row.http_status,
    durationMs: row.duration_ms,
    message: row.message,
    warnings: row.warnings,
    responseExcerpt: row.response_excerpt,
  };
}

/**
 * An attempt's text (message, response excerpt) as every store can hold it:
 * U+0000, which PostgreSQL text cannot store, is kept as its JSON escape, so
 * both adapters store the same and no answer can make a result unwritable.
 */
export function storableText<T extends string | null>(text: T): T {
  return (text === null ? null : text.replaceAll('\u0000', '\\u0000')) as T;
}
