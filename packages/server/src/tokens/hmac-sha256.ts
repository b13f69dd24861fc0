import { Buffer } from 'node:buffer';
import { createHmac, createSecretKey, hash } from 'node:crypto';

/** SHA-256 works on 64-byte blocks; RFC 2104 pads the key to one block. */
const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
/** Enough for every network key in a deployment, twice over during rotations. */
const MAX_CACHED_KEYS = 256;

type Mac = (message: string) => string;

const macs = new Map<string, Mac>();

/**
 * HMAC-SHA256 (RFC 2104) of `message` (as UTF-8) keyed with `key` (its UTF-8
 * bytes, as the official libraries use it), in base64url.
 *
 * A key is prepared once and cached. `createHmac` sets up an OpenSSL HMAC
 * context on every call, which was about 40 % of a token's verification
 * (docs/benchmarks.md, row 4). For a key whose padded block is ASCII (at most
 * 64 ASCII bytes, which Livefyre and p4p keys are) the MAC is instead two
 * one-shot SHA-256 digests over the key's precomputed pads:
 * H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ message)). ASCII XOR 0x36 stays ASCII, so the
 * inner pad can lead the message as a string without changing its bytes.
 * Any other key goes through `createHmac`.
 */
export function hmacSha256Base64url(key: string, message: string): string {
  let mac = macs.get(key);
  if (mac === undefined) {
    if (macs.size >= MAX_CACHED_KEYS) macs.clear();
    mac = prepareMac(Buffer.from(key, 'utf8'));
    macs.set(key, mac);
  }
  return mac(message);
}

function prepareMac(keyBytes: Buffer): Mac {
  if (keyBytes.length > BLOCK_BYTES || keyBytes.some((byte) => byte >= 0x80)) {
    const keyObject = createSecretKey(keyBytes);
    return (message) => createHmac('sha256', keyObject).update(message).digest('base64url');
  }
  const block = Buffer.alloc(BLOCK_BYTES);
  keyBytes.copy(block);
  const innerPad = String.fromCharCode(...block.map((byte) => byte ^ 0x36));
  // The outer digest's input: the outer pad, then the inner digest written in place on each call.
  const outerInput = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  block.forEach((byte, i) => (outerInput[i] = byte ^ 0x5c));
  return (message) => {
    outerInput.write(hash('sha256', innerPad + message, 'binary'), BLOCK_BYTES, 'latin1');
    return hash('sha256', outerInput, 'base64url');
  };
}
