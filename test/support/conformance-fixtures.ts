import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A documented operation, transcribed from the bank's own documents into
 * test/conformance/<bank>/<operation>.json: its source (document and section), the request's
 * path, headers and mandatory fields with the documented sample, and each documented answer with
 * the result Gerbang must read from it. Nothing here is derived from the adapters or the simulator.
 */
export interface ConformanceFixture {
  operation: string;
  source: { document: string; section: string; sampleValues?: string };
  request: {
    method: 'GET' | 'POST';
    /** With `{placeholders}` for path parameters. */
    path: string;
    serviceCode?: string;
    query?: string[];
    headers: string[];
    /** Dotted names (`amount.value`) of the body fields the documents call mandatory. */
    mandatory: string[];
    /** Documented forms (regular expressions) of fields, e.g. the statement's `YYYY-MM-DDT00:00:00+07:00`. */
    formats?: Record<string, string>;
    sample: Record<string, unknown> | null;
    /** Fields a replay today must send anew (ids the bank takes once, today's date). */
    fresh?: { why: string; fields: string[] };
  };
  answers: FixtureAnswer[];
}

export interface FixtureAnswer {
  name: string;
  status: number;
  body: Record<string, unknown>;
  /** What the adapter is asked, for read-only operations. */
  ask?: unknown;
  /** The result: a transfer outcome's fields, `{throws, bankResponseCode?}`, or `{balance}` / `{statement}`. */
  outcome: Record<string, unknown>;
}

const FOLDER = join(__dirname, '..', '..', '..', 'test', 'conformance');

export function loadFixture(bank: string, name: string): ConformanceFixture {
  const fixture = JSON.parse(readFileSync(join(FOLDER, bank, `${name}.json`), 'utf8')) as ConformanceFixture;
  if (!fixture.source?.document || !fixture.source?.section) throw new Error(`${bank}/${name}.json names no source document and section`);
  return fixture;
}

export function loadVector<T>(bank: string, name: string): { source: ConformanceFixture['source']; vector: T } {
  return JSON.parse(readFileSync(join(FOLDER, bank, `${name}.json`), 'utf8')) as { source: ConformanceFixture['source']; vector: T };
}

/** A dotted field of a body; undefined when absent. */
export function fieldAt(body: unknown, dotted: string): unknown {
  let value: unknown = body;
  for (const key of dotted.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** A copy of `body` without the dotted field. */
export function without(body: Record<string, unknown>, dotted: string): Record<string, unknown> {
  const copy = structuredClone(body);
  const keys = dotted.split('.');
  let parent: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  delete parent[keys[keys.length - 1]];
  return copy;
}

/** Whether a path as sent matches the fixture's template (`{x}` is one path segment). */
export function matchesTemplate(path: string, template: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/?]+');
  return new RegExp(`^${pattern}(\\?.*)?$`).test(path);
}
