/**
 * Checks a value against the small subset of JSON Schema the runtime's wire schemas use (type, required,
 * properties, additionalProperties: false, maxLength, minimum, format date-time), for the few documents the
 * operator reads from runtime pods (MLModel specs go through ajv, with the pool schema); a test checks that
 * it agrees with ajv on generated values.
 */
export interface ShapeSchema {
  readonly type: 'object' | 'string' | 'number' | 'integer';
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, ShapeSchema>>;
  readonly additionalProperties?: boolean;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly format?: 'date-time';
  readonly description?: string;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function conforms(schema: ShapeSchema, value: unknown): boolean {
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return false;
      if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return false;
      if (schema.format === 'date-time' && (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))) return false;
      return true;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (schema.type === 'integer' && !Number.isInteger(value)) return false;
      return schema.minimum === undefined || value >= schema.minimum;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      const properties = schema.properties ?? {};
      if ((schema.required ?? []).some((k) => !Object.hasOwn(record, k))) return false;
      for (const [key, item] of Object.entries(record)) {
        const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
        if (sub === undefined) {
          if (schema.additionalProperties === false) return false;
        } else if (!conforms(sub, item)) return false;
      }
      return true;
    }
  }
}
