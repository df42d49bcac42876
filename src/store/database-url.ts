/** The URL without its password, for logs and messages. */
export function describeDatabaseUrl(url: string): string {
  if (!url.startsWith('mysql://')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'mysql://(unparsable URL)';
  }
}
