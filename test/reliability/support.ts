/**
 * The reliability rig (RELIABILITY.md), in four pieces: the processes and services (rig.ts), a world and THE
 * ORACLE's expectations for it (world.ts), watching a batch while faults are injected (watch.ts), and the
 * checks every fault test ends with (checks.ts).
 */
export * from './rig.ts';
export * from './world.ts';
export * from './watch.ts';
export * from './checks.ts';
