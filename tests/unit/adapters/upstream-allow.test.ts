import { describe, expect, it } from 'vitest';
import { UpstreamAllowList } from '../../../src/adapters/upstream-allow.js';

describe('UpstreamAllowList', () => {
  const list = UpstreamAllowList.parse(
    ' chains.internal , api.example.com:8443, *.svc.cluster.local, 10.0.0.5:8000, [FD00::5], Ünïcode.example ',
  );
  const ok = (u: string) => list.permits(new URL(u));

  it.each([
    'http://chains.internal/invoke',
    'http://CHAINS.internal:9000/invoke',
    'https://api.example.com:8443/x',
    'http://invoice.ns.svc.cluster.local/invoke',
    'http://10.0.0.5:8000/invoke',
    'http://[fd00::5]:1234/x',
    'http://xn--ncode-cta3g.example/x',
  ])('permits %s', (u) => expect(ok(u)).toBe(true));

  it.each([
    'http://chains.internal.evil.com/invoke',
    'http://evilchains.internal/invoke',
    'https://api.example.com/x',
    'http://svc.cluster.local/invoke',
    'http://10.0.0.5/invoke',
    'http://10.0.0.6:8000/invoke',
    'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:8080/v1/chains/x/invoke',
    'http://[fd00::6]/x',
  ])('refuses %s', (u) => expect(ok(u)).toBe(false));

  it('an entry is matched on port too, defaulting by scheme', () => {
    const l = UpstreamAllowList.parse('a.example:443');
    expect(l.permits(new URL('https://a.example/x'))).toBe(true);
    expect(l.permits(new URL('http://a.example/x'))).toBe(false);
  });

  it.each(['', ' , ', 'http://a.example', 'a.example/path', 'a.example:99999', '*', '*.', 'a b', 'user@a.example'])(
    'refuses the list %j',
    (text) => {
      expect(() => UpstreamAllowList.parse(text)).toThrow();
    },
  );
});
