import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { isBlockedAddress } from './target-guard.js';

/** Error code carried by every refusal of the SSRF guard at pull time. */
export const BLOCKED_TARGET_CODE = 'P4P_BLOCKED_TARGET';

/** A connection refused because its target is loopback, private, link-local or metadata. */
export class BlockedTargetError extends Error {
  readonly code = BLOCKED_TARGET_CODE;
  constructor(message: string) {
    super(message);
    this.name = 'BlockedTargetError';
  }
}

/**
 * A DNS lookup for net/tls.connect that drops blocked addresses from the answer, and fails
 * with BlockedTargetError when nothing is left. Handles both callback shapes
 * (`all: true`, used by Node's happy eyeballs, and the single-address one).
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err !== null) {
      callback(err, options.all === true ? [] : '');
      return;
    }
    const allowed = addresses.filter((entry) => !isBlockedAddress(entry.address));
    const first = allowed[0];
    if (first === undefined) {
      const found = addresses.map((entry) => entry.address).join(', ') || 'no address';
      callback(
        new BlockedTargetError(
          `${hostname} resolves only to loopback, private, link-local or metadata addresses (${found}); p4p refuses to pull from them`,
        ),
        options.all === true ? [] : '',
      );
      return;
    }
    if (options.all === true) callback(null, allowed);
    else callback(null, first.address, first.family);
  });
};

/**
 * Wraps a connector so that a socket whose remote address is blocked is destroyed before
 * any HTTP is written on it. This is the last line against DNS rebinding: whatever the
 * lookup said, the address actually connected to is what counts.
 */
export function guardConnector(base: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    base(options, (...args) => {
      const [err, socket] = args;
      if (err !== null) {
        callback(err, null);
        return;
      }
      const address = socket?.remoteAddress;
      if (socket === null || address === undefined || isBlockedAddress(address)) {
        socket?.destroy();
        callback(
          new BlockedTargetError(
            `connected to ${address ?? 'an unknown address'} for ${options.hostname}, a loopback, private, link-local or metadata address; p4p refuses to pull from it`,
          ),
          null,
        );
        return;
      }
      callback(null, socket);
    });
  };
}

/**
 * The connector for the pull Agent: undici's own with `connectTimeoutMs`, plus, unless
 * private targets are allowed, the filtered DNS lookup and the connected-address check.
 */
export function buildPullConnector(opts: {
  connectTimeoutMs: number;
  allowPrivateTargets: boolean;
}): buildConnector.connector {
  if (opts.allowPrivateTargets) return buildConnector({ timeout: opts.connectTimeoutMs });
  return guardConnector(buildConnector({ timeout: opts.connectTimeoutMs, lookup: guardedLookup }));
}
