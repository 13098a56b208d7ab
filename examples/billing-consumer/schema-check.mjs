// A small JSON Schema checker for the keywords ArcWatch's published event schemas use (type,
// const, enum, required, properties, additionalProperties, pattern, minLength, minimum, maximum,
// items, anyOf, format date-time). It keeps this example free of dependencies beyond nats.js;
// a full validator for draft 2020-12 (Ajv's `ajv/dist/2020`) accepts the same schemas.

const TYPES = {
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};

/** The problems of `value` against `schema`, as "path: message" strings; empty when it conforms. */
export function check(schema, value, path = '$') {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${path}: not allowed`];
  const out = [];
  if (schema.anyOf) {
    const ok = schema.anyOf.some((s) => check(s, value, path).length === 0);
    if (!ok) out.push(`${path}: matches none of the allowed forms`);
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => TYPES[t]?.(value))) return [...out, `${path}: expected ${types.join(' or ')}`];
  }
  if ('const' in schema && value !== schema.const) out.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: expected one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      out.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      out.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) out.push(`${path}: not a date-time`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => out.push(...check(schema.items, v, `${path}[${i}]`)));
  if (TYPES.object(value)) {
    for (const key of schema.required ?? []) if (!(key in value)) out.push(`${path}.${key}: required`);
    for (const [key, sub] of Object.entries(schema.properties ?? {}))
      if (key in value) out.push(...check(sub, value[key], `${path}.${key}`));
    if (schema.additionalProperties === false) {
      for (const key of Object.keys(value))
        if (!(key in (schema.properties ?? {}))) out.push(`${path}.${key}: not allowed`);
    }
  }
  return out;
}
