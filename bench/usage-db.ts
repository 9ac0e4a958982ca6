/**
 * Reads the usage database a relay variant with accounting on wrote (relay-usage): how many
 * records it holds. Opened read-only after the relay stopped, so every batch has been written.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Rows in table `usage`; 0 when the file was never created. */
export function countUsageRows(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const count: unknown = db.prepare('SELECT COUNT(*) FROM usage').pluck().get();
    return typeof count === 'number' ? count : 0;
  } finally {
    db.close();
  }
}
