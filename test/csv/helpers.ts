import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openImportFile, type ImportRecord } from '../../src/csv/read-import-file.ts';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** An `open()` that yields `bytes` in chunks of `chunkSize` (1 puts a boundary everywhere). */
export function opener(bytes: Uint8Array | string, chunkSize = 7): () => AsyncIterable<Uint8Array> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return async function* () {
    for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
  };
}

export async function readAll(bytes: Uint8Array | string, chunkSize = 7) {
  const { meta, records } = await openImportFile(opener(bytes, chunkSize));
  const rows: ImportRecord[] = [];
  for await (const record of records) rows.push(record);
  return { meta, rows };
}

export async function readFixture(name: string, chunkSize = 64) {
  return readAll(await readFile(fixturePath(name)), chunkSize);
}

/** The FileError a read throws (from openImportFile or from the records). */
export async function fileErrorOf(bytes: Uint8Array | string, chunkSize = 7): Promise<{ code: string; line: number | null; message: string }> {
  try {
    await readAll(bytes, chunkSize);
  } catch (error) {
    const { code, line, message } = error as { code: string; line: number | null; message: string };
    return { code, line, message };
  }
  throw new Error('expected a FileError');
}
