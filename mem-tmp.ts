import { createReadStream } from 'node:fs';
import { openImportFile } from './src/csv/read-import-file.ts';
import { checkRow } from './src/rows/check-row.ts';
import { DEFAULT_CATALOGUE } from './src/domain/types.ts';
const path = process.argv[2];
const mb = (n: number) => Math.round(n / 1e6);
console.log('start', mb(process.memoryUsage.rss()));
const { meta, records } = await openImportFile(() => createReadStream(path, { highWaterMark: 256 * 1024 }));
console.log('after scan', mb(process.memoryUsage.rss()));
let n = 0;
for await (const r of records) {
  checkRow(meta.columns, r.cells, DEFAULT_CATALOGUE);
  if (++n % 200000 === 0) { const m = process.memoryUsage(); console.log(n, 'rss', mb(m.rss), 'heap', mb(m.heapUsed), mb(m.heapTotal), 'ext', mb(m.external), 'ab', mb(m.arrayBuffers)); }
}
console.log('maxRSS', process.resourceUsage().maxRSS / 1024);
