/** The audit search cursor: the last row's `seq`, opaque to clients. Shared by every back end. */
export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq)).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isInteger(seq)) throw new Error('invalid cursor');
  return seq;
}
