import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decrypt as oracleDecrypt, encrypt as oracleEncrypt, encryptWithHeader } from 'tplink-smarthome-crypto';
import { decrypt, encodeFrame, encrypt, FrameDecoder } from '../../../core/tplink/codec';

// The seed article's framed messages (DESIGN.md).
const GOLDEN: Array<[string, string]> = [
  ['AAAAI9Dw0qHYq9+61/XPtJS20bTAn+yV5o/hh+jK8J7rh+vLtpbr', '{ "system":{ "get_sysinfo":null } }'],
  ['AAAAKtDygfiL/5r31e+UtsWg1Iv5nPCR6LfEsNGlwOLYo4HyhueT9tTu36Lfog==', '{"system":{"set_relay_state":{"state":1}}}'],
  ['AAAAKtDygfiL/5r31e+UtsWg1Iv5nPCR6LfEsNGlwOLYo4HyhueT9tTu3qPeow==', '{"system":{"set_relay_state":{"state":0}}}'],
];

describe('codec', () => {
  describe('golden vectors', () => {
    it.each(GOLDEN)('encodes %s exactly', (base64, json) => {
      expect(encodeFrame(json).toString('base64')).toBe(base64);
    });
    it.each(GOLDEN)('decodes %s exactly', (base64, json) => {
      const decoder = new FrameDecoder();
      expect(decoder.push(Buffer.from(base64, 'base64')).map((f) => f.toString('utf8'))).toEqual([json]);
      expect(decoder.inFrame).toBe(false);
    });
    it('serialises objects as compact JSON', () => {
      expect(encodeFrame({ system: { set_relay_state: { state: 1 } } }).toString('base64')).toBe(GOLDEN[1]![0]);
    });
  });

  describe('cipher agrees with tplink-smarthome-crypto', () => {
    it('on random strings, non-ASCII included', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
          expect(encrypt(s).equals(oracleEncrypt(s))).toBe(true);
          expect(decrypt(oracleEncrypt(s)).toString('utf8')).toBe(s);
          expect(encodeFrame(s).equals(encryptWithHeader(s))).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
    it('on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          const b = Buffer.from(bytes);
          expect(decrypt(b).equals(oracleDecrypt(b))).toBe(true);
          expect(decrypt(encrypt(b)).equals(b)).toBe(true);
        }),
      );
    });
    it('encrypts UTF-8 bytes, not UTF-16 code units', () => {
      expect(decrypt(encrypt('Küche 💡')).toString('utf8')).toBe('Küche 💡');
      expect(encrypt('ü').length).toBe(2);
    });
  });

  describe('FrameDecoder', () => {
    const messages = ['{"a":1}', '{"system":{"get_sysinfo":{"alias":"Lampe über dem Tisch"}}}', '', 'x'.repeat(5000)];
    const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));

    it('decodes frames fed one byte at a time', () => {
      const d = new FrameDecoder();
      const out: string[] = [];
      for (const byte of stream) out.push(...d.push(Buffer.of(byte)).map((f) => f.toString('utf8')));
      expect(out).toEqual(messages);
      expect(d.inFrame).toBe(false);
    });

    it('decodes several frames in one chunk', () => {
      const out = new FrameDecoder().push(stream).map((f) => f.toString('utf8'));
      expect(out).toEqual(messages);
    });

    it('decodes any split of the stream', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (cuts) => {
          const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.length];
          const d = new FrameDecoder();
          const out: string[] = [];
          for (let i = 1; i < points.length; i++) {
            out.push(...d.push(stream.subarray(points[i - 1], points[i])).map((f) => f.toString('utf8')));
          }
          expect(out).toEqual(messages);
        }),
      );
    });

    it('reports progress of an incomplete frame', () => {
      const d = new FrameDecoder();
      const frame = encodeFrame('{"x":12345}');
      d.push(frame.subarray(0, 6));
      expect(d.inFrame).toBe(true);
      expect(d.expectedLength).toBe(11);
      expect(d.bufferedBytes).toBe(6);
    });

    it('rejects a declared length above the limit before buffering it', () => {
      const d = new FrameDecoder({ maxLength: 1024 });
      const header = Buffer.from([0xff, 0xff, 0xff, 0xff]);
      expect(() => d.push(header)).toThrow(RangeError);
      expect(d.bufferedBytes).toBe(0);
    });

    it('names the declared length and the limit (default 1 MiB)', () => {
      const d = new FrameDecoder();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(1024 * 1024 + 1);
      expect(() => d.push(header)).toThrow(`frame declares ${1024 * 1024 + 1} bytes, above the limit of ${1024 * 1024}`);
    });

    it('accepts a frame of exactly the limit', () => {
      const d = new FrameDecoder({ maxLength: 10 });
      expect(d.push(encodeFrame('0123456789'))[0]!.toString()).toBe('0123456789');
    });
  });
});
