import type { Network } from '../store/store.js';
import { buildSystemToken } from '../tokens/sign-token.js';

/**
 * The system token sent with every pull of a network, signed once and reused
 * while more than half of its lifetime remains (signing per pull was a
 * measurable share of the pull loop). A key rotation signs afresh at once.
 */
export class SystemTokens {
  private readonly byNetwork = new Map<number, { key: string; token: string; renewAt: number }>();

  constructor(private readonly ttlSeconds: number) {}

  tokenFor(network: Network, nowMs: number): string {
    const key = network.keys[0]!;
    const cached = this.byNetwork.get(network.id);
    if (cached !== undefined && cached.key === key && nowMs < cached.renewAt) return cached.token;
    const token = buildSystemToken(network.name, key, this.ttlSeconds, nowMs);
    this.byNetwork.set(network.id, { key, token, renewAt: nowMs + (this.ttlSeconds * 1000) / 2 });
    return token;
  }
}
