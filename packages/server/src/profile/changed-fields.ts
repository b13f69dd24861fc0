/**
 * Which top-level fields differ between two versions of a profile: what a new
 * version records and Studio shows as "fields that changed".
 */
import type { Profile } from './profile.js';

/**
 * Top-level field names whose value differs (deep compare, key order
 * irrelevant), sorted; every field of `next` when `previous` is null.
 * A field present on one side only counts as changed; a key holding
 * `undefined` counts as absent, as it would after a JSON round trip.
 */
export function changedFields(previous: Profile | null, next: Profile): string[] {
  const changed = new Set<string>();
  for (const key of Object.keys(next) as (keyof Profile)[]) {
    const value = next[key];
    if (previous === null ? value !== undefined : !deepEqual(ownValue(previous, key), value)) changed.add(key);
  }
  if (previous !== null) {
    for (const key of Object.keys(previous) as (keyof Profile)[]) {
      if (!Object.hasOwn(next, key) && previous[key] !== undefined) changed.add(key);
    }
  }
  return [...changed].sort();
}

/** Structural equality of JSON-like values: arrays in order, objects by key set regardless of order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  for (const key of Object.keys(a)) if (!deepEqual(ownValue(a, key), ownValue(b, key))) return false;
  for (const key of Object.keys(b)) {
    if (!Object.hasOwn(a, key) && ownValue(b, key) !== undefined) return false;
  }
  return true;
}

function ownValue(value: object, key: string): unknown {
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
