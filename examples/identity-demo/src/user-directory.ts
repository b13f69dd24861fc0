import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateProfile, type Profile } from 'p4p-sdk';

/** The profile fields the edit form offers, in form order. */
export const EDITABLE_FIELDS = ['display_name', 'image_url', 'bio', 'email', 'profile_url', 'location'] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/** The file, in the data directory, that holds the demo's users. */
export const USERS_FILE = 'identity-demo-users.json';

const SEED: Profile[] = [
  {
    id: 'ada',
    display_name: 'Ada Lovelace',
    image_url: 'https://example.com/avatars/ada-1.png',
    bio: 'Analyst of engines',
    email: 'ada@example.com',
    profile_url: 'https://example.com/u/ada',
  },
  { id: 'grace', display_name: 'Grace Hopper', bio: 'Compilers, and nanoseconds', location: 'Arlington', email: 'grace@example.com' },
  { id: 'alan', display_name: 'Alan Turing', bio: 'Can machines think?', profile_url: 'https://example.com/u/alan' },
];

/** The outcome of an edit: the saved profile, or what to fix (nothing was saved). */
export type EditResult = { ok: true; profile: Profile } | { ok: false; problem: string };

/**
 * The identity system's own users, kept in one JSON file in the data
 * directory so that edits survive restarts. Seeded with three users on first
 * start. Every edit is checked with p4p-sdk's validateProfile, the rules p4p
 * applies when it pulls, so the demo never saves what p4p would refuse or drop.
 */
export class UserDirectory {
  readonly #file: string;
  readonly #users: Map<string, Profile>;

  private constructor(file: string, users: Profile[]) {
    this.#file = file;
    this.#users = new Map(users.map((user) => [user.id, user]));
  }

  /** Loads the users file in `dataDir`, creating it with the seed users when there is none. */
  static open(dataDir: string): UserDirectory {
    const file = join(dataDir, USERS_FILE);
    let users: Profile[];
    try {
      users = parseUsers(readFileSync(file, 'utf8'), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      users = SEED;
    }
    const directory = new UserDirectory(file, users);
    directory.#save();
    return directory;
  }

  list(): Profile[] {
    return [...this.#users.values()];
  }

  get(id: string): Profile | undefined {
    return this.#users.get(id);
  }

  /**
   * Applies the form's fields to user `id` (an empty field removes it) and
   * saves, if the result is a profile p4p accepts whole.
   */
  edit(id: string, fields: Partial<Record<EditableField, string>>): EditResult {
    const current = this.#users.get(id);
    if (current === undefined) return { ok: false, problem: `no user ${id}` };
    const candidate: Record<string, unknown> = { ...current };
    for (const field of EDITABLE_FIELDS) {
      const value = fields[field]?.trim();
      if (value === undefined) continue;
      if (value === '') delete candidate[field];
      else candidate[field] = value;
    }
    const check = validateProfile(candidate, id);
    if (!check.ok) return { ok: false, problem: check.reason };
    if (check.warnings.length > 0) return { ok: false, problem: check.warnings.join('; ') };
    this.#users.set(id, check.profile);
    this.#save();
    return { ok: true, profile: check.profile };
  }

  /** Writes the whole file anew and renames it into place, so a crash never leaves half a file. */
  #save(): void {
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.list(), null, 2)}\n`);
    renameSync(temporary, this.#file);
  }
}

function parseUsers(text: string, file: string): Profile[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix it or delete it to start from the seed users`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${file} is not a JSON array of profiles; delete it to start from the seed users`);
  return parsed.map((entry, index) => {
    const check = validateProfile(entry);
    if (!check.ok) throw new Error(`${file}, entry ${index}: ${check.reason}; fix it or delete the file`);
    return check.profile;
  });
}
