// Tests for request-target parsing: decoding, and refusal of anything that could leave a user's space.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DavError } from './errors.ts';
import { parseTarget } from './paths.ts';

function refused(target: string): void {
  assert.throws(() => parseTarget(target), (error: unknown) => error instanceof DavError && error.status === 400, target);
}

void describe('parseTarget', () => {
  void it('decodes percent-encoded segments and keeps plain ones as sent', () => {
    assert.deepEqual(parseTarget('/calendars/alice/default/a%20b.ics'), { segments: ['calendars', 'alice', 'default', 'a b.ics'], trailingSlash: false });
    assert.deepEqual(parseTarget('/calendars/alice/default/'), { segments: ['calendars', 'alice', 'default'], trailingSlash: true });
    assert.deepEqual(parseTarget('/files/alice/Z%C3%B6e%2B1.txt?x=1'), { segments: ['files', 'alice', 'Zöe+1.txt'], trailingSlash: false });
    assert.deepEqual(parseTarget('http://example.org/files/alice/a+b'), { segments: ['files', 'alice', 'a+b'], trailingSlash: false });
  });

  void it('refuses malformed encodings, dot segments, encoded slashes and control characters', () => {
    for (const target of ['/files/alice/%E0%A4%A', '/files/alice/%zz', '/files/alice/..', '/files/alice/%2e%2E', '/files/alice/a%2Fb', '/files/alice/a%5Cb', '/files/alice/a%00b', '/files/alice/a\u0001b', '/files/alice/x#frag']) {
      refused(target);
    }
  });
});
