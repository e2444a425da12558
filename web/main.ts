import { runProcess } from '../src/lifecycle.ts';
import { startWeb } from './server.ts';

/** One web process (UI and API): run as many as wanted behind a load balancer. */
runProcess('web', startWeb);
