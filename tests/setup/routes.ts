import type { Express } from 'express';

export interface FoundRoute {
  method: string;
  path: string;
  policy: string | undefined;
  /** Every handler of the route, in order (the policy first). */
  handlers: unknown[];
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: LayerLike[] };
}

/** Every route of an Express 5 app, with the policy marker of its first handler. */
export function walkRoutes(app: Express): FoundRoute[] {
  const found: FoundRoute[] = [];
  const visit = (stack: LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const handlers = layer.route.stack.map((h) => h.handle);
        const first = handlers[0] as { policy?: string } | undefined;
        for (const method of Object.keys(layer.route.methods)) {
          found.push({
            method: method.toUpperCase(),
            path: prefix + layer.route.path,
            policy: first?.policy,
            handlers,
          });
        }
      } else if (layer.handle?.stack) {
        const mount =
          typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        visit(layer.handle.stack, prefix + mount);
      }
    }
  };
  visit((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return found;
}
