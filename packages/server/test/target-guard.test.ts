import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPullTemplate, isBlockedAddress, MAX_TEMPLATE_LENGTH } from '../src/pull/target-guard.js';

describe('isBlockedAddress', () => {
  const blocked = [
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.170.2',
    '100.64.0.1',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.0.192',
    '192.0.2.1',
    '198.18.0.1',
    '240.0.0.1',
    '168.63.129.16',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '2001:db8::1',
    '2002:7f00:1::1',
    '[::1]',
    'not an ip',
    '',
  ];
  for (const ip of blocked) {
    it(`blocks ${JSON.stringify(ip)}`, () => assert.equal(isBlockedAddress(ip), true));
  }

  const allowed = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'];
  for (const ip of allowed) {
    it(`allows ${ip}`, () => assert.equal(isBlockedAddress(ip), false));
  }
});

describe('checkPullTemplate', () => {
  const strict = { allowPrivateTargets: false };
  const lenient = { allowPrivateTargets: true };

  function refusal(template: unknown, opts = strict): { code: string; message: string } {
    const result = checkPullTemplate(template, opts);
    assert.equal(result.ok, false, `expected ${String(template).slice(0, 60)} to be refused`);
    if (result.ok) throw new Error('unreachable');
    return result;
  }

  it('accepts an https template without warnings', () => {
    assert.deepEqual(checkPullTemplate('https://idp.example.com/users/{id}', strict), { ok: true, warnings: [] });
  });

  it('accepts the spec example', () => {
    assert.deepEqual(checkPullTemplate('https://example.com/some_path/?id={id}', strict), { ok: true, warnings: [] });
  });

  it('accepts http with a warning', () => {
    assert.deepEqual(checkPullTemplate('http://idp.example.com/users/{id}', strict), {
      ok: true,
      warnings: ['pull URL uses http: HTTPS is strongly recommended'],
    });
  });

  it('refuses a non-string or empty template', () => {
    for (const value of [undefined, null, '', '   ']) {
      const { code, message } = refusal(value);
      assert.equal(code, 'invalid_pull_url');
      assert.match(message, /missing or empty/);
    }
    const { code, message } = refusal(42);
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /must be a string, not a number/);
  });

  it('refuses a template without {id}', () => {
    const { code, message } = refusal('https://idp.example.com/users/');
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /does not contain \{id\}/);
  });

  it('refuses {id} only in the fragment', () => {
    const { code, message } = refusal('https://idp.example.com/users#{id}');
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /fragment/);
  });

  it('refuses a relative URL', () => {
    const { code, message } = refusal('/users/{id}');
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /not an absolute URL/);
  });

  it('refuses ftp: and javascript:', () => {
    const ftp = refusal('ftp://files.example.com/{id}');
    assert.equal(ftp.code, 'invalid_pull_url');
    assert.match(ftp.message, /ftp scheme/);
    const js = refusal("javascript:alert('{id}')");
    assert.equal(js.code, 'invalid_pull_url');
    assert.match(js.message, /javascript scheme/);
  });

  it(`refuses more than ${MAX_TEMPLATE_LENGTH} characters and accepts exactly that many`, () => {
    const prefix = 'https://idp.example.com/users/{id}?pad=';
    const atLimit = prefix + 'a'.repeat(MAX_TEMPLATE_LENGTH - prefix.length);
    assert.equal(atLimit.length, MAX_TEMPLATE_LENGTH);
    assert.equal(checkPullTemplate(atLimit, strict).ok, true);
    const { code, message } = refusal(atLimit + 'a');
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /2049 characters.*limit is 2048/);
  });

  it('refuses credentials in the URL', () => {
    for (const template of ['https://user:pw@idp.example.com/{id}', 'https://user@idp.example.com/{id}']) {
      const { code, message } = refusal(template);
      assert.equal(code, 'invalid_pull_url');
      assert.match(message, /user name or password/);
    }
  });

  it('refuses {id} in the host', () => {
    const { code, message } = refusal('https://{id}.idp.example.com/profile');
    assert.equal(code, 'invalid_pull_url');
    assert.match(message, /host or port/);
  });

  it('refuses blocked IP literals', () => {
    for (const template of [
      'http://127.0.0.1:8080/users/{id}',
      'http://10.0.0.5/users/{id}',
      'http://169.254.169.254/latest/{id}',
      'http://[::1]/users/{id}',
      'http://[fd00:ec2::254]/{id}',
      'http://2130706433/users/{id}',
    ]) {
      const { code, message } = refusal(template);
      assert.equal(code, 'pull_url_blocked', template);
      assert.match(message, /allow private targets/);
    }
  });

  it('refuses localhost and *.localhost', () => {
    for (const template of ['http://localhost:3000/{id}', 'http://LOCALHOST./{id}', 'https://idp.localhost/{id}']) {
      const { code, message } = refusal(template);
      assert.equal(code, 'pull_url_blocked', template);
      assert.match(message, /localhost/i);
    }
  });

  it('accepts public IP literals', () => {
    assert.equal(checkPullTemplate('https://93.184.216.34/users/{id}', strict).ok, true);
  });

  it('accepts private targets when the operator allows them', () => {
    for (const template of ['http://127.0.0.1:8080/users/{id}', 'http://localhost/{id}', 'http://[::1]/{id}']) {
      const result = checkPullTemplate(template, lenient);
      assert.equal(result.ok, true, template);
    }
  });

  it('still applies the other rules when private targets are allowed', () => {
    assert.equal(refusal('http://127.0.0.1/users', lenient).code, 'invalid_pull_url');
  });
});
