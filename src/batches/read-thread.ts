/** A reading thread of a parallel read (parallel-read.ts): a PartReader, its messages through the thread's port. */
import { parentPort, workerData } from 'node:worker_threads';
import { PartReader } from './part-reader.ts';
import type { ReadThreadData } from './parallel-read.ts';

const port = parentPort!;
const reader = new PartReader(workerData as ReadThreadData, (message) => port.postMessage(message));
port.on('message', (message) => reader.deliver(message));
// Once closed, the thread waits to be terminated.
await reader.run();
