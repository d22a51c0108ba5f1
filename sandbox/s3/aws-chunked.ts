/**
 * Decodes an `aws-chunked` request body (what recent AWS SDKs and CLIs send for uploads with a
 * checksum): `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` repeated, a `0` chunk, then trailer
 * lines (e.g. `x-amz-checksum-crc32:…`) and an empty line. Yields the object's bytes only.
 * Signatures and trailing checksums are not checked (the local S3 checks no signature).
 */
export class ChunkedBodyError extends Error {}

const CRLF = Buffer.from('\r\n');

/** `expectedLength`: `x-amz-decoded-content-length`, checked before the body is accepted. */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, expectedLength?: number): AsyncGenerator<Buffer> {
  let buf: Buffer = Buffer.alloc(0);
  let total = 0;
  /** Bytes of the current chunk still to come; -1 while a size line is expected. */
  let remaining = -1;
  let done = false;
  for await (const piece of source) {
    buf = buf.length === 0 ? piece : Buffer.concat([buf, piece]);
    for (;;) {
      if (done) break;
      if (remaining > 0) {
        if (buf.length === 0) break;
        const take = Math.min(remaining, buf.length);
        total += take;
        yield buf.subarray(0, take);
        buf = buf.subarray(take);
        remaining -= take;
        if (remaining > 0) break;
        remaining = -2; // the CRLF after the data
      }
      if (remaining === -2) {
        if (buf.length < 2) break;
        if (!buf.subarray(0, 2).equals(CRLF)) throw new ChunkedBodyError('aws-chunked: missing CRLF after chunk data');
        buf = buf.subarray(2);
        remaining = -1;
      }
      const eol = buf.indexOf(CRLF);
      if (eol < 0) {
        if (buf.length > 4096) throw new ChunkedBodyError('aws-chunked: chunk header too long');
        break;
      }
      const header = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      const size = /^([0-9a-fA-F]+)(;.*)?$/.exec(header);
      if (!size) throw new ChunkedBodyError(`aws-chunked: bad chunk header ${JSON.stringify(header.slice(0, 80))}`);
      remaining = parseInt(size[1]!, 16);
      if (remaining === 0) done = true; // trailers follow; they carry no object bytes
    }
  }
  if (!done) throw new ChunkedBodyError('aws-chunked: body ended before its last chunk');
  if (expectedLength !== undefined && total !== expectedLength) {
    throw new ChunkedBodyError(`aws-chunked: the body decoded to ${total} bytes, x-amz-decoded-content-length says ${expectedLength}`);
  }
}
