import { Agent, request } from 'undici';

export interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  text: string;
  location: string | null;
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/**
 * A browser-less console user for component tests: keeps the session cookie and the language
 * chosen (`/console/lang?to=en`), reads the CSRF token from the last page, never follows
 * redirects (tests look at them).
 */
export class ConsoleClient {
  cookie = '';
  csrf = '';
  /** The `gerbang_lang` cookie the console set, sent as a browser would. */
  private lang = '';

  private readonly dispatcher: Agent | undefined;

  /** `localAddress`: the loopback address to call from (127.0.0.x), to play several sources. */
  constructor(
    readonly origin: string,
    localAddress?: string,
  ) {
    this.dispatcher = localAddress ? new Agent({ localAddress, connect: { rejectUnauthorized: false } }) : origin.startsWith('https:') ? insecure : undefined;
  }

  async get(path: string): Promise<PageAnswer> {
    return this.send('GET', path);
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<PageAnswer> {
    return this.send('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...headers });
  }

  /** A download (an .xlsx): the body as bytes. */
  async getBuffer(path: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const res = await request(`${this.origin}${path}`, { headers: this.cookies(), dispatcher: this.origin.startsWith('https:') ? insecure : undefined });
    const body = Buffer.from(await res.body.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: res.statusCode, headers, body };
  }

  async signIn(username: string, password: string): Promise<PageAnswer> {
    return this.post('/console/sign-in', { username, password });
  }

  private async send(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<PageAnswer> {
    const res = await request(`${this.origin}${path}`, {
      method,
      body,
      headers: { ...this.cookies(), ...headers },
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    const raw = res.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      if (pair.startsWith('gerbang_lang=')) this.lang = pair;
      if (!pair.startsWith('gerbang_console=')) continue;
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim()));
      this.cookie = expired ? '' : pair;
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1];
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: res.statusCode, headers: flat, setCookies, text, location: flat.location ?? null };
  }

  private cookies(): Record<string, string> {
    const cookie = [this.cookie, this.lang].filter((c) => c !== '').join('; ');
    return cookie ? { cookie } : {};
  }
}
