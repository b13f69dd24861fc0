import type { Profile } from 'p4p-sdk';
import type { StoredUser } from './p4p-view.js';
import { EDITABLE_FIELDS, type EditableField } from './user-directory.js';

/** A user as the identity system has it, next to what p4p has stored. */
export interface UserRow {
  profile: Profile;
  stored: StoredUser | null;
}

const LABELS: Record<EditableField, string> = {
  display_name: 'Display name',
  image_url: 'Avatar URL',
  bio: 'Bio',
  email: 'E-mail',
  profile_url: 'Profile page URL',
  location: 'Location',
};

/** Text made safe for HTML content and attribute values. */
function escape(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }
  img { width: 2.5rem; height: 2.5rem; border-radius: 50%; object-fit: cover; }
  label { display: block; margin-top: .8rem; } input, textarea { width: 100%; padding: .3rem; }
  .notice { background: #e8f5e9; padding: .6rem; } .problem { background: #fdecea; padding: .6rem; } .muted { color: #666; }
</style></head>
<body><h1>${escape(title)}</h1>
${body}
</body></html>
`;
}

function storedSummary(stored: StoredUser | null): string {
  if (stored?.profile == null) return '<span class="muted">not pulled yet</span>';
  const outcome = stored.sync.last_outcome === null ? '' : `, last pull ${escape(stored.sync.last_outcome)}`;
  return `${escape(stored.profile.display_name)} <span class="muted">(version ${stored.version}, ${escape(stored.sync.state)}${outcome})</span>`;
}

/** `GET /`: every user, with what p4p has stored for each. */
export function userListPage(rows: UserRow[], notice: string | null): string {
  const lines = rows.map(
    ({ profile, stored }) => `<tr>
  <td>${profile.image_url === undefined ? '' : `<img src="${escape(profile.image_url)}" alt="">`}</td>
  <td><a href="/users/${escape(profile.id)}">${escape(profile.display_name)}</a><br><span class="muted">${escape(profile.id)}</span></td>
  <td>${escape(profile.bio ?? '')}</td>
  <td>${storedSummary(stored)}</td>
</tr>`,
  );
  return page(
    'Identity demo',
    `${notice === null ? '' : `<p class="notice">${escape(notice)}</p>`}
<p>The users of this small identity system. Edit one: saving pings p4p, p4p pulls the profile from this
system's pull endpoint, and the last column (read from p4p's API) shows what p4p stored.</p>
<table><tr><th></th><th>User</th><th>Bio</th><th>Stored in p4p</th></tr>
${lines.join('\n')}
</table>`,
  );
}

/** `GET /users/{id}`: the edit form, with the values to show and the problem that stopped a save, if any. */
export function editPage(profile: Profile, values: Partial<Record<EditableField, string>>, problem: string | null, stored: StoredUser | null): string {
  const inputs = EDITABLE_FIELDS.map((field) => {
    const value = escape(values[field] ?? '');
    const control =
      field === 'bio' ? `<textarea name="bio" rows="4">${value}</textarea>` : `<input name="${field}" value="${value}"${field === 'display_name' ? ' required' : ''}>`;
    return `<label>${LABELS[field]}${control}</label>`;
  });
  return page(
    `Edit ${profile.display_name}`,
    `${problem === null ? '' : `<p class="problem">Not saved: ${escape(problem)}</p>`}
<form method="post" action="/users/${escape(profile.id)}">
${inputs.join('\n')}
<p><button type="submit">Save</button> <a href="/">Back</a></p>
</form>
<p>Stored in p4p: ${storedSummary(stored)}</p>`,
  );
}

/** The form values of a saved profile. */
export function formValues(profile: Profile): Partial<Record<EditableField, string>> {
  return Object.fromEntries(EDITABLE_FIELDS.map((field) => [field, profile[field] ?? ''])) as Partial<Record<EditableField, string>>;
}
