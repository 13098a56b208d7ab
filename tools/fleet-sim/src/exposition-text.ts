/**
 * Writing Prometheus text exposition (format 0.0.4) the way the two real exporters do: dcgm-exporter
 * (Go) prints integers plainly and floats as `%f`; vLLM (prometheus_client in Python) prints
 * Python float reprs with Go-style exponents for large values, sorts label names, and adds a
 * `<name>_created` gauge family after each counter and histogram.
 */
export type Labels = Readonly<Record<string, string>>;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatLabels(labels: Labels, order?: readonly string[]): string {
  const keys = order ?? Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}

/** prometheus_client's floatToGoString: Python repr, but exponents once the integer part passes 6 digits. */
export function pythonFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  let s = pythonRepr(v);
  const dot = s.indexOf('.');
  if (v > 0 && dot > 6 && !s.includes('e')) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    s = `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/** Python's repr of a float: shortest round-trip digits, always a '.0' or an exponent. */
function pythonRepr(v: number): string {
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [m, e] = v.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

/** dcgm-exporter prints integer fields with %d and float fields with %f. */
export function goInt(v: number): string {
  return String(Math.round(v));
}

export function goFixed6(v: number): string {
  return v.toFixed(6);
}

export interface FamilyLine {
  name: string;
  labels: string;
  value: string;
}

/** One family block: HELP, TYPE, then its sample lines. */
export function familyBlock(name: string, type: string, help: string, lines: readonly FamilyLine[]): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const l of lines) out += `${l.name}${l.labels} ${l.value}\n`;
  return out;
}
