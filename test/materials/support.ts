/** What the material tests share: a multipart reader for what legacy systems receive, and material cases. */
import crypto from 'node:crypto';

export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads a multipart body (form-data or related) the way a receiving system would: by its boundary. */
export function parseMultipart(bytes: Buffer, contentType: string): Part[] {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = bytes.indexOf(delimiter);
  if (at !== 0) throw new Error('the body does not start with its boundary');
  for (;;) {
    const after = at + delimiter.length;
    if (bytes.subarray(after, after + 2).toString() === '--') break;
    const headEnd = bytes.indexOf('\r\n\r\n', after);
    const next = bytes.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd);
    if (headEnd < 0 || next < 0) throw new Error('a part is not closed');
    const headers = Object.fromEntries(
      bytes
        .subarray(after + 2, headEnd)
        .toString('latin1')
        .split('\r\n')
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    parts.push({ headers, body: bytes.subarray(headEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}

export const sha256 = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex');

/** A document-like material of `size` random bytes. */
export function materialBytes(size: number): Buffer {
  return crypto.randomBytes(size);
}
