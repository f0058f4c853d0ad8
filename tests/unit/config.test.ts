import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('config', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.UNLEASH_URL).toBeUndefined();
    expect(c.UNLEASH_PROJECT).toBe('default');
    expect(c.UNLEASH_ENVIRONMENT).toBe('development');
    expect(c.BODY_LIMIT).toBe(10485760);
    expect(c.LOG_LEVEL).toBe('info');
    expect(c.RETENTION_DAYS).toBeUndefined();
    expect(c.DATA_DIR.endsWith('.chain-canary')).toBe(true);
    expect([c.HEADERS_TIMEOUT_MS, c.REQUEST_TIMEOUT_MS, c.KEEP_ALIVE_TIMEOUT_MS]).toEqual([10_000, 60_000, 72_000]);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ UNLEASH_URL: 'not a url' }, 'UNLEASH_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BODY_LIMIT: '-1' }, 'BODY_LIMIT'],
    [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS'],
    [{ REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS'],
    [{ HEADERS_TIMEOUT_MS: 'soon' }, 'HEADERS_TIMEOUT_MS'],
    [{ KEEP_ALIVE_TIMEOUT_MS: '10' }, 'KEEP_ALIVE_TIMEOUT_MS'],
    [{ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }, 'HEADERS_TIMEOUT_MS'],
    [{ UPSTREAM_ALLOW: 'http://chains.internal/' }, 'UPSTREAM_ALLOW'],
    [{ UPSTREAM_ALLOW: ',' }, 'UPSTREAM_ALLOW'],
    [{ TRUST_PROXY: 'yes please' }, 'TRUST_PROXY'],
    [{ AUTH_FAILURES_PER_MINUTE: '-1' }, 'AUTH_FAILURES_PER_MINUTE'],
  ])('rejects %o naming the variable in one line', (env, name) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', UNLEASH_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('reads TRUST_PROXY and UPSTREAM_ALLOW', () => {
    expect(loadConfig({}).TRUST_PROXY).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toBe('10.0.0.0/8, 127.0.0.1');
    expect(loadConfig({}).UPSTREAM_ALLOW).toBeUndefined();
    expect(loadConfig({ UPSTREAM_ALLOW: 'a.example, *.b.example:8000' }).UPSTREAM_ALLOW?.permits(new URL('http://x.b.example:8000/'))).toBe(
      true,
    );
  });
});
