import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildPullUrl } from '../src/pull/pull-url.js';
import { redactUrl } from '../src/log/redact-url.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoic3lzdGVtIn0.c2lnbmF0dXJl';

describe('buildPullUrl', () => {
  it('appends &lftoken= to a template that has a query string (spec example)', () => {
    assert.equal(
      buildPullUrl('https://example.com/some_path/?id={id}', '1234', TOKEN),
      `https://example.com/some_path/?id=1234&lftoken=${TOKEN}`,
    );
  });

  it('appends ?lftoken= to a path template', () => {
    assert.equal(
      buildPullUrl('https://idp.example.com/users/{id}', 'alice', TOKEN),
      `https://idp.example.com/users/alice?lftoken=${TOKEN}`,
    );
  });

  it('replaces every {id}', () => {
    assert.equal(
      buildPullUrl('https://x.example/{id}/profile?u={id}', 'bob', 't'),
      'https://x.example/bob/profile?u=bob&lftoken=t',
    );
  });

  it('keeps dots inside ids as they are', () => {
    assert.equal(buildPullUrl('https://x.example/u/{id}', 'jane.doe-1_2', 't'), 'https://x.example/u/jane.doe-1_2?lftoken=t');
  });

  it('encodes the ids "." and ".." so they are not dot segments', () => {
    assert.equal(buildPullUrl('https://x.example/u/{id}', '..', 't'), 'https://x.example/u/%2E%2E?lftoken=t');
    assert.equal(buildPullUrl('https://x.example/u/{id}', '.', 't'), 'https://x.example/u/%2E?lftoken=t');
    assert.equal(buildPullUrl('https://x.example/u/{id}', '...', 't'), 'https://x.example/u/...?lftoken=t');
  });

  it('URL-encodes reserved characters of the id', () => {
    assert.equal(
      buildPullUrl('https://x.example/u/{id}', 'a/b?c&d#e', 't'),
      'https://x.example/u/a%2Fb%3Fc%26d%23e?lftoken=t',
    );
  });

  it('drops a #fragment and puts the token before where it was', () => {
    assert.equal(buildPullUrl('https://x.example/u/{id}#top', '7', 't'), 'https://x.example/u/7?lftoken=t');
    assert.equal(buildPullUrl('https://x.example/u?id={id}#top', '7', 't'), 'https://x.example/u?id=7&lftoken=t');
  });

  it('adds no extra separator after a trailing ? or &', () => {
    assert.equal(buildPullUrl('https://x.example/u/{id}?', '7', 't'), 'https://x.example/u/7?lftoken=t');
    assert.equal(buildPullUrl('https://x.example/u?id={id}&', '7', 't'), 'https://x.example/u?id=7&lftoken=t');
  });
});

describe('redactUrl', () => {
  const cases: Array<[string, string]> = [
    [`https://x.example/u/7?lftoken=${TOKEN}`, 'https://x.example/u/7?lftoken=[redacted]'],
    [`https://x.example/u?id=7&lftoken=${TOKEN}&b=2`, 'https://x.example/u?id=7&lftoken=[redacted]&b=2'],
    [`/?actor_token=${TOKEN}&pull_profile_url=https%3A%2F%2Fa`, '/?actor_token=[redacted]&pull_profile_url=https%3A%2F%2Fa'],
    [`/x?lftoken=${TOKEN}#frag`, '/x?lftoken=[redacted]#frag'],
    [`/x?lftoken=a&lftoken=b`, '/x?lftoken=[redacted]&lftoken=[redacted]'],
    [`actor_token=${TOKEN}&a=1`, 'actor_token=[redacted]&a=1'],
    ['/x?LFTOKEN=abc', '/x?LFTOKEN=[redacted]'],
    ['/x?not_lftoken=abc&lftokens=d', '/x?not_lftoken=abc&lftokens=d'],
    ['/x?lftoken=', '/x?lftoken=[redacted]'],
    ['https://x.example/no/query', 'https://x.example/no/query'],
    ['not a url at all ?lftoken=abc', 'not a url at all ?lftoken=[redacted]'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`redacts ${JSON.stringify(input.slice(0, 48))}`, () => {
      assert.equal(redactUrl(input), expected);
    });
  }

  it('never throws, even on a non-string at runtime', () => {
    assert.doesNotThrow(() => redactUrl(undefined as unknown as string));
    assert.doesNotThrow(() => redactUrl({ toString: () => { throw new Error('x'); } } as unknown as string));
  });
});
