/**
 * The collector's entry point under a CPU profiler, for the ingest benchmark (`--cpu-prof DIR`):
 * starts the V8 profiler, then the collector, and writes `collector-<pid>.cpuprofile` into
 * ARCWATCH_CPU_PROFILE_DIR on SIGUSR2. Node's own --cpu-prof writes only on a normal exit, and
 * the collector ends on a re-raised SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.ARCWATCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
  );
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, `collector-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      process.stdout.write(`cpu profile written to ${dir}\n`);
    });
  });
}

// After the profiler: the collector starts as it is imported.
void import('../../services/collector/src/main');
