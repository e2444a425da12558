/**
 * Windows-1252 decoded as the WHATWG Encoding Standard does (SPEC §2). Written by hand because Node 20's
 * `TextDecoder('windows-1252')` decodes as ISO-8859-1 (0x80 gives U+0080, not `€`) and iconv-lite turns
 * 0x81, 0x8D, 0x8F, 0x90, 0x9D into U+FFFD where WHATWG keeps U+0081…: only 0x80–0x9F differ from Latin-1.
 */
const C1_TO_UNICODE = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d,
  0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0x009d, 0x017e, 0x0178,
];
const C1_STRINGS = C1_TO_UNICODE.map((code) => String.fromCharCode(code));
const C1 = /[\x80-\x9f]/g;

/**
 * Windows-1252 bytes read as Latin-1 — one character a byte, kept in V8's compact one-byte strings — then
 * finished by windows1252Cell in the few cells that hold one of the 0x80–0x9F characters (see CsvTokenizer).
 */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Where the next character U+0080–U+009F is in `text` from `from` on, or -1. */
export function indexOfC1(text: string, from: number): number {
  C1.lastIndex = from;
  return C1.exec(text)?.index ?? -1;
}

/** Text read by latin1, with U+0080–U+009F turned into what Windows-1252 means by those bytes (€, ’, œ…). */
export function windows1252Cell(text: string): string {
  return indexOfC1(text, 0) === -1 ? text : text.replace(C1, (c) => C1_STRINGS[c.charCodeAt(0) - 0x80]);
}

/** The whole of some Windows-1252 bytes as text. */
export function decodeWindows1252(bytes: Uint8Array): string {
  return windows1252Cell(latin1(bytes));
}

const UNICODE_TO_C1 = new Map(C1_TO_UNICODE.map((code, i) => [code, 0x80 + i]));

/** The reverse, for writing files back in the upload's encoding and for fixtures; unmappable characters become `?`. */
export function encodeWindows1252(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i] = code < 0x80 || (code >= 0xa0 && code <= 0xff) ? code : (UNICODE_TO_C1.get(code) ?? 0x3f);
  }
  return out;
}
