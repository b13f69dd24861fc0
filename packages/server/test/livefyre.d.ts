/** The parts of the official `livefyre` package (v2, CommonJS, untyped) that the tests use. */
declare module 'livefyre' {
  interface LivefyreNetwork {
    /** A system token (user_id and display_name 'system') expiring in 86400 s. */
    buildLivefyreToken(): string;
    buildUserAuthToken(userId: string, displayName: string, expiresSeconds: number): string;
    /** Throws (jsonwebtoken errors) on a bad signature; false on a wrong domain, user or expiry. */
    validateLivefyreToken(token: string): boolean;
  }
  const livefyre: {
    /** `Network.init(name, key)`; the name must end with 'fyre.co'. */
    getNetwork(networkName: string, networkKey: string): LivefyreNetwork;
  };
  export = livefyre;
}
