import busboy from 'busboy';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { HTTPException } from 'hono/http-exception';

export interface UploadedFile<T> {
  filename: string;
  result: T;
}

/** A name to show people; never used as a path (uploads are stored in the database). */
export function cleanFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return clean || 'import.csv';
}

/**
 * Streams a multipart body: exactly one file part (handed to `onFile` as it arrives, never buffered whole) and
 * a few small fields. Limits are enforced while streaming, chunked bodies included; compressed bodies are refused.
 */
export async function parseUpload<T>(
  req: Request,
  maxBytes: number,
  onFile: (file: AsyncIterable<Uint8Array>, filename: string) => Promise<T>,
  /** Undoes what onFile did when the request is refused after all (a second file, too many parts…). */
  discard?: (result: T) => Promise<void>,
): Promise<{ fields: Record<string, string>; file: UploadedFile<T> }> {
  const encoding = req.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') throw new HTTPException(415, { message: 'Compressed uploads are not accepted' });
  const type = req.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new HTTPException(400, { message: 'Expected multipart/form-data with a "file" part' });
  }
  const length = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length) && length > maxBytes + 64 * 1024) throw new HTTPException(413, { message: 'File too large' });
  if (!req.body) throw new HTTPException(400, { message: 'Empty request body' });

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { 'content-type': type },
      limits: { files: 1, fields: 10, parts: 12, fieldSize: 1024, fileSize: maxBytes, headerPairs: 20 },
    });
  } catch {
    throw new HTTPException(400, { message: 'Malformed multipart body' });
  }
  const fields: Record<string, string> = {};
  let file: Promise<UploadedFile<T>> | undefined;
  let failure: HTTPException | undefined;
  let stop: () => void = () => {};
  const source = Readable.fromWeb(req.body as unknown as WebReadableStream);
  // A refused upload stops being read at once: the answer goes out without waiting for the rest of the body.
  const fail = (e: HTTPException) => {
    failure ??= e;
    source.unpipe(bb);
    source.destroy();
    stop();
  };

  const done = new Promise<void>((resolve, reject) => {
    stop = resolve;
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        if (name === 'file') fail(new HTTPException(400, { message: 'Send one file per request' }));
        return;
      }
      stream.on('limit', () => {
        fail(new HTTPException(413, { message: 'File too large' }));
        stream.destroy(new HTTPException(413, { message: 'File too large' }));
      });
      const filename = cleanFilename(info.filename);
      file = onFile(stream, filename).then((result) => ({ filename, result }));
      file.catch(() => stream.resume());
    });
    bb.on('filesLimit', () => fail(new HTTPException(400, { message: 'Send one file per request' })));
    bb.on('partsLimit', () => fail(new HTTPException(400, { message: 'Too many parts' })));
    bb.on('fieldsLimit', () => fail(new HTTPException(400, { message: 'Too many fields' })));
    bb.on('error', (err) => reject(new HTTPException(400, { message: 'Malformed multipart body', cause: err })));
    bb.on('close', () => resolve());
  });
  source.on('error', (err) => {
    if (!failure) bb.destroy(err);
  });
  source.pipe(bb);
  await done;
  if (failure) {
    const stored = await file?.catch(() => undefined);
    if (stored && discard) await discard(stored.result);
    throw failure;
  }
  if (!file) throw new HTTPException(400, { message: 'Missing "file" part' });
  try {
    return { fields, file: await file };
  } catch (err) {
    throw failure ?? err;
  }
}
