/**
 * Development help for the pull handler: says, once per field, when a
 * profile about to be served would be rejected by p4p or lose fields there,
 * using the very rules p4p applies ({@link validateProfile}).
 */
import { validateProfile } from '../profile/validate-profile.js';

/** Where the handler's messages go; default `console.warn`. */
export type Warn = (message: string) => void;

/** A checker that remembers what it has said, so a busy endpoint does not repeat itself. */
export function profileDevCheck(warn: Warn): (profile: unknown, userId: string) => void {
  const said = new Set<string>();
  const sayOnce = (topic: string, message: string): void => {
    if (said.has(topic)) return;
    said.add(topic);
    warn(`p4p-sdk: ${message}`);
  };
  return (profile, userId) => {
    const check = validateProfile(profile, userId);
    if (!check.ok) {
      sayOnce(`rejected:${topicOf(check.reason)}`, `p4p would reject the profile served for user ${JSON.stringify(userId)}: ${check.reason}`);
    }
    for (const warning of check.warnings) {
      sayOnce(`dropped:${topicOf(warning)}`, `p4p would drop part of the profile served for user ${JSON.stringify(userId)}: ${warning}`);
    }
  };
}

/** The field a message is about: its text up to the first space, colon, `[` or `.` ("tags[3]: …" → "tags"). */
function topicOf(message: string): string {
  return /^[^\s:[.]*/.exec(message)?.[0] ?? message;
}
