/** A cell: text is quoted as needed, a number is written as in JSON, null is empty. */
export type CsvCell = string | number | null;

/** Spreadsheets run a cell that starts with one of these as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180 text: CRLF line ends, a header line first. */
export function toCsv(header: string[], rows: CsvCell[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',') + '\r\n').join('');
}

function cell(value: CsvCell): string {
  if (value === null) return '';
  if (typeof value === 'number') return JSON.stringify(value);
  // A leading quote makes the spreadsheet show the text instead of evaluating it.
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
