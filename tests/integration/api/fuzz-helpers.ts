import fc from 'fast-check';
import type request from 'supertest';
import type { Agent } from './helpers';

/**
 * The shared part of the fuzz suites: values that sometimes fit a field and often do not, bodies
 * made of an endpoint's own field names (and stray ones), and the property every write endpoint
 * keeps whatever JSON arrives: never a 5xx, and a 400 always says validation_failed or
 * invalid_json with a message.
 */
export function anyValueOf(
  strings: string[],
  numbers: number[],
  extra: fc.Arbitrary<unknown>[] = [],
): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\uD800', 'x'.repeat(20000), ...strings),
    fc.constantFrom(0, -1, 1, 1.5, 2147483647, 2147483648, 1e308, ...numbers),
    ...extra,
    fc.boolean(),
    fc.constant(null),
  );
}

export const bodyOf = (fields: string[], anyValue: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 4,
      arbitrary: fc.dictionary(
        fc.constantFrom(...fields, 'unknown', '__proto__', 'constructor'),
        anyValue,
        { maxKeys: fields.length + 1 },
      ),
    },
  );

type AnyAgent = Agent | ReturnType<typeof request>;

export interface CheckOptions {
  agent?: () => AnyAgent;
  /** Makes some bodies valid enough to reach the database (e.g. the current version). */
  complete?: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

/** A `check(method, path, fields, opts)` running `runs` generated bodies against one endpoint. */
export function writeFuzzer(
  defaultAgent: () => AnyAgent,
  anyValue: fc.Arbitrary<unknown>,
  runs: number,
) {
  return async (
    method: 'post' | 'patch',
    path: string | (() => Promise<string>),
    fields: string[],
    opts: CheckOptions = {},
  ): Promise<void> => {
    await fc.assert(
      fc.asyncProperty(bodyOf(fields, anyValue), fc.boolean(), async (generated, complete) => {
        const isObject =
          generated !== null && typeof generated === 'object' && !Array.isArray(generated);
        const body =
          complete && isObject && opts.complete
            ? await opts.complete(generated as Record<string, unknown>)
            : generated;
        const target = typeof path === 'function' ? await path() : path;
        const res = await (opts.agent?.() ?? defaultAgent())
          [method](target)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        if (res.status >= 500) {
          throw new Error(
            `${res.status} for ${JSON.stringify(body).slice(0, 300)}: ${JSON.stringify(res.body)}`,
          );
        }
        if (res.status === 400) {
          expect(['validation_failed', 'invalid_json']).toContain(res.body.error.code);
          expect(res.body.error.message).toEqual(expect.any(String));
          expect(res.body.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: runs },
    );
  };
}
