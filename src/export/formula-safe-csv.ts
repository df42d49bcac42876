import { stringify, type Options, type Stringifier } from 'csv-stringify';

/**
 * Characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula
 * (`=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`) or strip into one (a leading TAB or CR).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell made safe to open in a spreadsheet (OWASP "CSV injection"): a value starting with
 * `= + - @ TAB CR` gets a leading apostrophe, which spreadsheets read as "this cell is text" and
 * do not show. Anything else is unchanged, so ids keep their exact spelling (leading zeros, dots)
 * as text. Client names, Origins, client ids of anonymous callers and bank references all reach
 * exports: every text cell of every export goes through here (CSV and spreadsheet alike).
 */
export function formulaSafe(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * A csv-stringify stream whose every string cell is formulaSafe. csv-stringify does the RFC 4180
 * quoting (separators, quotes, line breaks); the options are csv-stringify's own (delimiter,
 * bom, header, columns…), so a `;` export for an Indonesian-locale Excel is the same call.
 */
export function formulaSafeCsv(options: Options = {}): Stringifier {
  return stringify({ ...options, cast: { ...options.cast, string: (value) => formulaSafe(value) } });
}
