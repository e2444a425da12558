import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import type { Encoding } from '../domain/types.ts';

/** What one pass over an upload's bytes tells: its fingerprint and how to read it (SPEC §2 "Encoding"). */
export interface ScanResult {
  size: number;
  /** Hex SHA-256 of the whole file, for `duplicate_of`. */
  sha256: string;
  /** Starts with the UTF-8 BOM. */
  bom: boolean;
  validUtf8: boolean;
  encoding: Encoding;
  hasNul: boolean;
  /** What a binary file looks like, when it is one; null for a text file. */
  binaryKind: 'utf16' | 'xlsx' | 'other' | null;
}

const HEAD_SIZE = 512;

/**
 * One incremental pass: feed chunks split anywhere, then `finish()`. UTF-8 validity uses Node's native `isUtf8`
 * on whole sequences, carrying an incomplete trailing sequence (at most 3 bytes) over to the next chunk.
 */
export class ByteScanner {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly head = new Uint8Array(HEAD_SIZE);
  private headLength = 0;
  private hasNul = false;
  private validUtf8 = true;
  private carry: Uint8Array = new Uint8Array(0);
  private finished = false;

  update(chunk: Uint8Array): void {
    if (this.finished) throw new Error('ByteScanner.update after finish');
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.headLength < HEAD_SIZE) {
      const take = Math.min(HEAD_SIZE - this.headLength, chunk.length);
      this.head.set(chunk.subarray(0, take), this.headLength);
      this.headLength += take;
    }
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.hasNul && bytes.indexOf(0) !== -1) this.hasNul = true;
    if (this.validUtf8) this.checkUtf8(bytes);
  }

  private checkUtf8(bytes: Buffer): void {
    const data = this.carry.length === 0 ? bytes : Buffer.concat([this.carry, bytes]);
    const end = completeSequencesEnd(data);
    if (end < 0) {
      this.validUtf8 = false;
      return;
    }
    if (end > 0 && !isUtf8(data.subarray(0, end))) {
      this.validUtf8 = false;
      return;
    }
    this.carry = Uint8Array.prototype.slice.call(data, end);
  }

  finish(): ScanResult {
    this.finished = true;
    if (this.carry.length > 0) this.validUtf8 = false;
    const head = this.head.subarray(0, this.headLength);
    const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    const binaryKind = detectBinaryKind(head, this.hasNul);
    return {
      size: this.size,
      sha256: this.hash.digest('hex'),
      bom,
      validUtf8: this.validUtf8,
      encoding: bom || this.validUtf8 ? 'utf-8' : 'windows-1252',
      hasNul: this.hasNul,
      binaryKind,
    };
  }
}

/**
 * The end of the last complete UTF-8 sequence in `data`: the bytes after it are the start of a sequence the next
 * chunk completes. -1 when the tail cannot be the start of any sequence (the file is not UTF-8 anyway).
 */
function completeSequencesEnd(data: Uint8Array): number {
  const length = data.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  let i = length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (data[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return continuation === length ? 0 : -1; // only continuation bytes: let isUtf8 judge later
  const lead = data[i];
  let needed: number;
  if (lead < 0x80) needed = 0;
  else if ((lead & 0xe0) === 0xc0) needed = 1;
  else if ((lead & 0xf0) === 0xe0) needed = 2;
  else if ((lead & 0xf8) === 0xf0) needed = 3;
  else return (lead & 0xc0) === 0x80 ? length : -1; // 4+ continuations or an invalid byte
  return continuation < needed ? i : length;
}

function detectBinaryKind(head: Uint8Array, hasNul: boolean): ScanResult['binaryKind'] {
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) return 'utf16';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'xlsx';
  if (!hasNul) return null;
  if (looksLikeUtf16WithoutBom(head)) return 'utf16';
  return 'other';
}

/** Latin text in UTF-16 has a NUL in every other byte. */
function looksLikeUtf16WithoutBom(head: Uint8Array): boolean {
  const pairs = Math.floor(head.length / 2);
  if (pairs < 2) return false;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenNul++;
    if (head[i + 1] === 0) oddNul++;
  }
  return Math.max(evenNul, oddNul) >= pairs * 0.8 && Math.min(evenNul, oddNul) <= pairs * 0.1;
}
