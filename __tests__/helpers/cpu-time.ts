/**
 * CPU time for tests that bound how long something takes: this process's, every thread (ORT's intra-op
 * threads, which sleep rather than spin, and the weight statistics' worker), so a loaded machine, which
 * stretches wall time many times over, leaves it about the same. Compare it with a reference run in the
 * same process, never with a fixed number.
 */
export function cpuMsSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
