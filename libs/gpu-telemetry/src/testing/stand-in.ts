import * as fs from 'node:fs';
import * as path from 'node:path';

/** The stand-in nvidia-smi and its scenarios (fixtures/nvidia-smi/README.md). */
export const STAND_IN_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'nvidia-smi');
export const STAND_IN_NVIDIA_SMI = path.join(STAND_IN_DIR, 'nvidia-smi');

export function standInEnv(scenario: string): NodeJS.ProcessEnv {
  return { ...process.env, NVIDIA_SMI_FIXTURE: scenario };
}

export function scenarioFile(scenario: string, file: string): string {
  return fs.readFileSync(path.join(STAND_IN_DIR, scenario, file), 'utf8');
}

/** What the stand-in prints for the default field list, read without running it. */
export function scenarioQueryOutput(scenario: string, fields: readonly string[]): string {
  const lines = scenarioFile(scenario, 'query-gpu.csv').split('\n');
  const header = lines[0]!.replace(/^# fields:\s*/, '').split(',');
  return lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const v = l.split(', ');
      return fields.map((f) => v[header.indexOf(f)]).join(', ');
    })
    .join('\n');
}
