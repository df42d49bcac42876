/**
 * Origin allowlist. An entry is `host`, `*.suffix`, or either with an explicit scheme and
 * port (`http://localhost:3000`). Without a scheme only https is allowed. `*.dynamics.com`
 * matches any subdomain of dynamics.com but not dynamics.com itself. An empty list allows
 * nobody.
 */
interface OriginPattern {
  scheme: string;
  wildcard: boolean;
  host: string;
  port: string;
}

export class OriginAllowlist {
  private readonly patterns: OriginPattern[];
  readonly entries: readonly string[];

  /** Throws an Error naming the first entry that is not a host, wildcard or origin. */
  constructor(entries: readonly string[]) {
    this.entries = entries;
    this.patterns = entries.map(parsePattern);
  }

  allows(origin: string | undefined): boolean {
    if (!origin) return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    // An Origin header is exactly scheme://host[:port]; anything else (a path, `null`) is refused.
    if (url.origin !== origin) return false;
    const scheme = url.protocol.replace(':', '');
    const host = url.hostname.toLowerCase();
    return this.patterns.some(
      (p) =>
        p.scheme === scheme &&
        p.port === url.port &&
        (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host),
    );
  }
}

function parsePattern(entry: string): OriginPattern {
  const trimmed = entry.trim().toLowerCase();
  const match = /^(?:(https?):\/\/)?(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?\/?$/.exec(trimmed);
  if (!match) throw new Error(`"${entry}" is not a host, *.domain wildcard or origin`);
  const [, scheme = 'https', wildcard, host, port = ''] = match;
  const defaultPort = scheme === 'https' ? '443' : '80';
  return { scheme, wildcard: Boolean(wildcard), host, port: port === defaultPort ? '' : port };
}

/** Each entry that is not a host, wildcard or origin, with the message naming it. */
export function originProblems(entries: readonly string[]): { entry: string; message: string }[] {
  const problems: { entry: string; message: string }[] = [];
  for (const entry of entries) {
    try {
      parsePattern(entry);
    } catch (error) {
      problems.push({ entry, message: (error as Error).message });
    }
  }
  return problems;
}

export function invalidOrigins(entries: readonly string[]): string[] {
  return originProblems(entries).map((problem) => problem.message);
}
