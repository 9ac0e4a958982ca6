/**
 * A tiny, independent multipart/form-data reader and writer for tests (RFC 7578 / RFC 2046), so
 * what arrived at a mock can be checked part by part without trusting the relay's own parser.
 */

export interface FormPart {
  /** The raw header block, without the blank line. */
  readonly headers: string;
  readonly name: string | undefined;
  readonly filename: string | undefined;
  readonly data: Buffer;
}

/** The boundary parameter of a content type, quoted or bare. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) throw new Error(`no boundary in ${String(contentType)}`);
  return boundary;
}

/** Splits a complete multipart body into its parts (preamble and epilogue ignored). */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter may open the body without the CRLF.
  const text = Buffer.concat([Buffer.from('\r\n'), body]);
  const parts: FormPart[] = [];
  let at = text.indexOf(delimiter);
  if (at === -1) throw new Error('no delimiter in body');
  for (;;) {
    at += delimiter.length;
    if (text[at] === 45 && text[at + 1] === 45) return parts;
    const headerStart = text.indexOf('\r\n', at) + 2;
    const headerEnd = text.indexOf('\r\n\r\n', headerStart - 2);
    if (headerEnd === -1) throw new Error('unterminated part headers');
    const headers = text.toString('latin1', headerStart, headerEnd);
    const next = text.indexOf(delimiter, headerEnd + 4);
    if (next === -1) throw new Error('unterminated part');
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    parts.push({
      headers,
      name: /;\s*name="([^"]*)"/i.exec(disposition)?.[1],
      filename: /;\s*filename="([^"]*)"/i.exec(disposition)?.[1],
      data: text.subarray(headerEnd + 4, next),
    });
    at = next;
  }
}

/** The one part named `name` (throws when absent or repeated). */
export function partNamed(parts: readonly FormPart[], name: string): FormPart {
  const found = parts.filter((p) => p.name === name);
  if (found.length !== 1) throw new Error(`expected one part named ${name}, found ${found.length}`);
  return found[0] as FormPart;
}
