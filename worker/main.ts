import { runProcess } from '../src/lifecycle.ts';
import { startWorker } from './worker.ts';

/** One worker process: run as many as wanted, on any machine that reaches PostgreSQL and Redis. */
runProcess('worker', startWorker);
