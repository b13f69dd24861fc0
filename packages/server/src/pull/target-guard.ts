import ipaddr from 'ipaddr.js';
import { checkTemplateShape } from 'p4p-sdk';

export { MAX_TEMPLATE_LENGTH } from 'p4p-sdk';

/**
 * Cloud metadata and host-agent addresses. Most already fall in a blocked range
 * (169.254.169.254 and 169.254.170.2 link-local, fd00:ec2::254 unique-local,
 * 100.100.100.200 CGNAT, 192.0.0.192 reserved); Azure's 168.63.129.16 is public
 * address space and is only caught by this list.
 */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(
  ['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', '168.63.129.16', 'fd00:ec2::254'].map(
    (ip) => ipaddr.parse(ip).toNormalizedString(),
  ),
);

/** ipaddr.js IPv4 ranges that are not publicly routable unicast. */
const BLOCKED_IPV4_RANGES: ReadonlySet<string> = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'loopback',
  'carrierGradeNat',
  'private',
  'reserved',
]);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * True when the IP (v4 or v6, incl. IPv4-mapped v6) is not a public unicast address:
 * loopback, private, link-local (incl. 169.254.169.254 metadata), unique-local, CGNAT,
 * unspecified, multicast, broadcast, reserved, etc. Also true for known cloud metadata
 * addresses (e.g. fd00:ec2::254), and for anything that does not parse (fail closed).
 *
 * IPv6 is allowed only inside 2000::/3 and outside every special range ipaddr.js knows
 * (so 6to4 and Teredo are refused); NAT64 addresses (64:ff9b::/96) are judged by the
 * IPv4 address they embed.
 */
export function isBlockedAddress(ip: string): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(stripZone(stripBrackets(ip.trim())));
  } catch {
    return true;
  }
  if (METADATA_ADDRESSES.has(address.toNormalizedString())) return true;
  if (address.kind() === 'ipv4') return BLOCKED_IPV4_RANGES.has(address.range());

  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return isBlockedAddress(v6.toIPv4Address().toString());
  if (v6.match(NAT64_WELL_KNOWN)) return isBlockedAddress(embeddedIpv4(v6).toString());
  return !v6.match(GLOBAL_UNICAST_V6) || v6.range() !== 'unicast';
}

export type TemplateCheck =
  | { ok: true; warnings: string[] }
  | { ok: false; code: 'invalid_pull_url' | 'pull_url_blocked'; message: string };

/**
 * Registration-time check of a pull URL template (spec section 4): the shape rules
 * shared with the endpoint doctor (p4p-sdk checkTemplateShape) refuse with
 * invalid_pull_url; then, unless allowPrivateTargets, a host that is an IP literal in a
 * blocked range or is `localhost`/`*.localhost` is refused with pull_url_blocked.
 * No DNS lookups: hostnames are checked again at every pull.
 * An http URL passes with a warning.
 */
export function checkPullTemplate(template: unknown, opts: { allowPrivateTargets: boolean }): TemplateCheck {
  const shape = checkTemplateShape(template);
  if (!shape.ok) return { ok: false, code: 'invalid_pull_url', message: shape.message };
  const { url } = shape;

  if (!opts.allowPrivateTargets) {
    const host = stripBrackets(url.hostname);
    if (isLocalhostName(host)) {
      return blocked(
        `pull_profile_url points at ${host}, a loopback name: use the identity system's public host name, or let the operator allow private targets`,
      );
    }
    if (ipaddr.isValid(host) && isBlockedAddress(host)) {
      return blocked(
        `pull_profile_url points at ${host}, a loopback, private, link-local or metadata address: use a public address, or let the operator allow private targets`,
      );
    }
  }

  const warnings = url.protocol === 'http:' ? ['pull URL uses http: HTTPS is strongly recommended'] : [];
  return { ok: true, warnings };
}

/** `localhost`, `*.localhost` (RFC 6761), with or without the trailing root dot. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** `[::1]` → `::1`; other strings unchanged. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function stripZone(ip: string): string {
  const percentAt = ip.indexOf('%');
  return percentAt === -1 ? ip : ip.slice(0, percentAt);
}

function embeddedIpv4(v6: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = v6.toByteArray().slice(12);
  return ipaddr.fromByteArray(bytes) as ipaddr.IPv4;
}

function blocked(message: string): TemplateCheck {
  return { ok: false, code: 'pull_url_blocked', message };
}
