/**
 * Searching and exporting the audit trail: filters on the indexed columns, newest first, with
 * an opaque cursor (the row's sequence number) for the next page.
 */
import type { AuditExportFilter, AuditFilter, AuditPage, AuditQuery } from '../store/types.js';
import type { AuditRecord } from './record.js';

export type { AuditFilter, AuditPage } from '../store/types.js';

export async function queryAudit(store: AuditQuery, f: AuditFilter): Promise<AuditPage> {
  return store.search(f);
}

/** Streams every matching record, oldest first, in pages (for exports of any size). */
export async function* exportAudit(store: AuditQuery, f: AuditExportFilter): AsyncGenerator<AuditRecord> {
  let after = 0;
  for (;;) {
    const rows = await store.exportPage(f, after, 1000);
    if (rows.length === 0) return;
    for (const r of rows) yield r.record;
    after = rows.at(-1)!.seq;
  }
}

/** Cell starts that spreadsheets read as a formula: = + - @ tab CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV line per record; nested values (lists, objects) as JSON text. */
export function csvHeader(fields: readonly string[]): string {
  return fields.join(',');
}

export function csvLine(record: Record<string, unknown>, fields: readonly string[]): string {
  return fields
    .map((f) => {
      const v = record[f];
      if (v === null || v === undefined) return '';
      let text = typeof v === 'object' ? JSON.stringify(v) : String(v);
      // A text cell a spreadsheet would run as a formula is prefixed with a quote (OWASP CSV injection).
      if (typeof v === 'string' && FORMULA_START.test(text)) text = `'${text}`;
      return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
