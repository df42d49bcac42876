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
