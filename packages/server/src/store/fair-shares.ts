import type { Network } from './store.js';

/** One step of a claim: lease up to `take` due users of `network`. */
export interface ShareStep {
  network: Network;
  take: number;
}

/**
 * How a claim of at most `limit` pulls is shared between the networks with
 * due users, the same for every store adapter: round robin from the
 * `rotation`-th network, each pass offering every network that is still
 * hungry an equal part of what is left, never beyond its room under
 * `perNetworkLimit` (counting `inFlight`).
 *
 * A generator, so a synchronous (SQLite) and an asynchronous (PostgreSQL)
 * adapter drive the same plan: each step says what to lease, and the caller
 * passes back to `next()` how many it leased.
 */
export function* fairShares(
  networks: readonly Network[],
  rotation: number,
  inFlight: ReadonlyMap<number, number>,
  perNetworkLimit: number,
  limit: number,
): Generator<ShareStep, void, number> {
  const start = networks.length === 0 ? 0 : rotation % networks.length;
  let candidates = [...networks.slice(start), ...networks.slice(0, start)];
  const room = new Map(candidates.map((network) => [network.id, perNetworkLimit - (inFlight.get(network.id) ?? 0)]));
  let claimed = 0;
  while (claimed < limit && candidates.length > 0) {
    const share = Math.ceil((limit - claimed) / candidates.length);
    const stillHungry: Network[] = [];
    for (const network of candidates) {
      const take = Math.min(share, room.get(network.id)!, limit - claimed);
      if (take <= 0) continue;
      const leased: number = yield { network, take };
      claimed += leased;
      room.set(network.id, room.get(network.id)! - leased);
      if (leased === take && room.get(network.id)! > 0) stillHungry.push(network);
    }
    candidates = stillHungry;
  }
}
