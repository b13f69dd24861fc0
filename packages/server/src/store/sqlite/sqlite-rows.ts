import type { Profile } from '../../profile/profile.js';
import type { Network } from '../store.js';
import { networkFromRow, type AttemptRow, type NetworkRow, type UserRow } from '../store-rows.js';

/** Rows as SQLite returns them: JSON in text columns, booleans as 0/1. */
export type DbNetwork = Omit<NetworkRow, 'owners'> & { owners: string };
export type DbUser = Omit<UserRow, 'dirty' | 'profile'> & { dirty: number; profile: string | null };
export type DbAttempt = Omit<AttemptRow, 'warnings'> & { warnings: string };

export interface DbVersion {
  version: number;
  profile: string;
  changed: string;
  created_at: number;
}

/** Users with a pull planned (the users_queued index covers exactly these). */
export const QUEUED = `state IN ('waiting', 'retrying')`;

/** The earliest lease end later than `?` (users_leased). */
export const NEXT_LEASE_END = `SELECT MIN(lease_until) AS at FROM users WHERE state = 'in_flight' AND lease_until > ?`;

export function toNetwork(row: DbNetwork): Network {
  return networkFromRow({ ...row, owners: JSON.parse(row.owners) as string[] });
}

export function parseProfile(json: string | null): Profile | null {
  return json === null ? null : (JSON.parse(json) as Profile);
}
