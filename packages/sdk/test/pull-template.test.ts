import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTemplateShape, MAX_TEMPLATE_LENGTH } from '../src/index.js';

/** The shape rules of a pull URL template, shared by p4p's registration and the endpoint doctor. */

function refusal(template: unknown, name?: string): string {
  const shape = checkTemplateShape(template, name);
  assert.equal(shape.ok, false, `expected ${JSON.stringify(template)} to be refused`);
  return (shape as { message: string }).message;
}

describe('checkTemplateShape', () => {
  test('accepts https and http templates with {id} in the path or the query; url is filled with a sample id', () => {
    for (const template of ['https://idp.example.com/users/{id}', 'http://idp.example.com/p4p?id={id}', 'https://idp.example.com/{id}#{id}']) {
      const shape = checkTemplateShape(template);
      assert.ok(shape.ok, template);
      assert.equal(shape.url.hostname, 'idp.example.com');
      assert.ok(!shape.url.href.includes('{id}'));
    }
  });

  test('refuses each bad shape with what to fix, named as the caller calls the template', () => {
    assert.equal(refusal('  '), 'pull_profile_url is missing or empty: give an absolute https URL containing {id}');
    assert.equal(refusal(42, 'template'), 'template must be a string, not a number: give an absolute https URL containing {id}');
    assert.equal(refusal(['https://a.example/{id}', 'https://b.example/{id}']), 'pull_profile_url is given more than once: give one absolute https URL containing {id}');
    assert.equal(refusal(null), 'pull_profile_url is missing or empty: give an absolute https URL containing {id}');
    assert.match(refusal('https://example.com/users'), /^pull_profile_url does not contain \{id\}/);
    assert.match(refusal('https://example.com/users#{id}'), /only in the #fragment/);
    assert.match(refusal('users/{id}'), /not an absolute URL/);
    assert.match(refusal('ftp://example.com/{id}', 'template'), /^template uses the ftp scheme/);
    assert.match(refusal('https://{id}.example.com/'), /\{id\} in the host or port/);
    assert.match(refusal('https://example.com:{id}/'), /not an absolute URL|\{id\} in the host or port/);
    assert.match(refusal('https://me:secret@example.com/{id}'), /user name or password/);
    assert.match(refusal('https://example.com/{id}?lftoken=abc'), /already has an lftoken in its query string: remove it/);
    assert.match(refusal('https://example.com/p?id={id}&lftoken='), /already has an lftoken/);
    assert.equal(
      refusal('https://example.com/u/{id}?a=\u0000'),
      'pull_profile_url has a space or control character (U+0000) at position 30: percent-encode it (a space is %20) or remove it',
    );
    assert.match(refusal(' https://example.com/{id}'), /\(U\+0020\) at position 1:/);
    assert.match(refusal('https://example.com/u/\n{id}\t'), /\(U\+000A\) at position 23:/);
    assert.match(refusal('https://example.com/u/{id}\u007f'), /\(U\+007F\)/);
  });

  test(`accepts exactly ${MAX_TEMPLATE_LENGTH} characters and refuses one more`, () => {
    const prefix = 'https://example.com/{id}/';
    const atLimit = prefix + 'a'.repeat(MAX_TEMPLATE_LENGTH - prefix.length);
    assert.equal(checkTemplateShape(atLimit).ok, true);
    assert.match(refusal(`${atLimit}a`), new RegExp(`is ${MAX_TEMPLATE_LENGTH + 1} characters long; the limit is ${MAX_TEMPLATE_LENGTH}`));
  });
});
