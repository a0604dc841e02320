import { InvalidInput } from '../../core/errors.js';
import { previewJson } from '../../http/jsonInput.js';

/**
 * Task options arrive as query parameters or as fields of a JSON or multipart body (strings there); body
 * fields win over the query. Each is checked here so a typo'd value is a 400, not a silent default.
 */
export class OptionReader {
  constructor(
    private readonly query: Record<string, string | string[] | undefined>,
    private readonly fields: Record<string, unknown>,
  ) {}

  private raw(name: string): unknown {
    if (this.fields[name] !== undefined) return this.fields[name];
    const q = this.query[name];
    return Array.isArray(q) ? q[q.length - 1] : q;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined || raw === '') return fallback;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new InvalidInput(`${name} must be a number from ${min} to ${max}, got ${previewJson(raw)}`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.number(name, fallback, min, max);
    if (!Number.isInteger(value)) throw new InvalidInput(`${name} must be a whole number, got ${value}`);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined || raw === '') return fallback;
    if (raw === true || raw === 'true' || raw === '1') return true;
    if (raw === false || raw === 'false' || raw === '0') return false;
    throw new InvalidInput(`${name} must be true or false, got ${previewJson(raw)}`);
  }
}
