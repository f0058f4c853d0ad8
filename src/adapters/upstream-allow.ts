/**
 * UPSTREAM_ALLOW: the hosts `http` chain versions may call (README "Security"). Unset, any host
 * is allowed. Set, a version whose URL names another host is refused when it is registered (400
 * `upstream_not_allowed`) and when it is called (a replica with a narrower list, or a version
 * registered before the list was set), so an admin key cannot point the gateway at internal
 * services or a cloud metadata endpoint.
 *
 * Entries, comma-separated: `chains.internal` (that host, any port), `chains.internal:8000`
 * (that port only), `*.chains.internal` (any subdomain, not the domain itself), `10.0.0.5`,
 * `[fd00::5]:8000`. Hosts compare as the URL parser writes them (lower case, IPv6 in brackets),
 * by name: the list does not resolve DNS, so it names the hosts you mean, not their addresses.
 * `openai` versions are not checked: their endpoint is the gateway's own configuration
 * (OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT), not the version's.
 */

interface Entry {
  /** Lower-case host as URL.hostname writes it; for a wildcard, the suffix with its leading dot. */
  host: string;
  wildcard: boolean;
  /** Undefined: any port. */
  port: string | undefined;
}

// A host (any name the URL parser takes: it is normalised through it below) or a bracketed IPv6.
const ENTRY = /^(\*\.)?(\[[0-9a-f:.]+\]|[^\s:/@[\]*,?#\\%]+)(?::(\d{1,5}))?$/i;

export class UpstreamAllowList {
  private constructor(private readonly entries: readonly Entry[]) {}

  /** The list from UPSTREAM_ALLOW; throws an Error naming the first entry that is not one. */
  static parse(text: string): UpstreamAllowList {
    const entries: Entry[] = [];
    for (const raw of text.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const m = ENTRY.exec(item);
      if (!m || (m[3] !== undefined && Number(m[3]) > 65535)) throw new Error(`"${item}" is not a host, host:port or *.domain`);
      // Through the URL parser, so that the entry is spelled as a URL's hostname is (IDN, IPv6, case).
      let host: string;
      try {
        host = new URL(`http://${m[2]}/`).hostname;
      } catch {
        throw new Error(`"${item}" is not a host, host:port or *.domain`);
      }
      entries.push({
        host: m[1] ? `.${host}` : host,
        wildcard: m[1] !== undefined,
        port: m[3] === undefined ? undefined : String(Number(m[3])),
      });
    }
    if (entries.length === 0) throw new Error('names no host');
    return new UpstreamAllowList(entries);
  }

  /** Whether a call to `url` is allowed. */
  permits(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
    return this.entries.some(
      (e) =>
        (e.wildcard ? host.endsWith(e.host) && host.length > e.host.length : host === e.host) && (e.port === undefined || e.port === port),
    );
  }

  toString(): string {
    return this.entries.map((e) => `${e.wildcard ? `*${e.host}` : e.host}${e.port ? `:${e.port}` : ''}`).join(', ');
  }
}
