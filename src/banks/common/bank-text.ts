/**
 * Text from a bank (references, messages, names, statement lines) goes on to the ERP, the
 * audit, the logs and the finance console. Before any of it is read:
 *  - control characters (C0, DEL, C1 and the Unicode line/paragraph separators), which could
 *    forge a log line, a header or a CSV row, become spaces;
 *  - bidirectional and invisible direction marks (U+200E/F, U+061C, U+202A–E, U+2066–9), which
 *    make `REF-1234‮56` display as another reference than the one stored, are removed.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const BIDI = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

/** Any character of CONTROL or BIDI. */
const UNSAFE = new RegExp(`${CONTROL.source}|${BIDI.source}`, 'g');

/**
 * A value read from the database, for an operator's terminal: as it is when it holds no control
 * or direction character; otherwise in double quotes with each of them (and each quote and
 * backslash) escaped as JSON would (`"\u001b[1A…"`), so that a value written in SQL can neither
 * move the cursor, forge a line, nor pass for a clean one: the operator sees it was hostile.
 */
export function visibleText(text: string): string {
  if (text.search(UNSAFE) === -1) return text;
  const escaped = text.replace(/["\\]/g, '\\$&').replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

/** One bank string made safe to store, show and answer (see above). */
export function bankText(text: string): string {
  return text.replace(BIDI, '').replace(CONTROL, ' ');
}

/**
 * Parses a bank's JSON answer with every string value passed through bankText; undefined when
 * the body is not JSON (the caller's schema then refuses it). Keys are left alone: a schema
 * names the ones it reads.
 */
export function parseBankJson(body: string): unknown {
  try {
    return JSON.parse(body, (_key, value: unknown) => (typeof value === 'string' ? bankText(value) : value));
  } catch {
    return undefined;
  }
}
