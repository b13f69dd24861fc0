import type { Network } from './store.js';

/**
 * Networks by name, kept for a short while: every ping looks its network up
 * by the token's domain, and networks almost never change. Writes through
 * the same store clear it at once; a change made by another process (the
 * CLI, another p4p on the same PostgreSQL) is seen within `ttlMs`. Unknown
 * names are never kept, so a network created elsewhere is found at once.
 */
export class NetworkCache {
  private readonly entries = new Map<string, { network: Network; until: number }>();
  /** Bumped by clear(), so that a lookup that started before a write cannot keep what it read. */
  private generation = 0;

  constructor(private readonly ttlMs = 1000) {}

  async get(name: string, load: (name: string) => Promise<Network | null>): Promise<Network | null> {
    const now = performance.now();
    const kept = this.entries.get(name);
    if (kept !== undefined && kept.until > now) return kept.network;
    const generation = this.generation;
    const network = await load(name);
    if (network === null) this.entries.delete(name);
    else if (generation === this.generation) this.entries.set(name, { network, until: now + this.ttlMs });
    return network;
  }

  clear(): void {
    this.entries.clear();
    this.generation += 1;
  }
}
