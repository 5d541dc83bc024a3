import type { Response } from 'express';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** Preact escapes every text and attribute value, so a page can never inject markup. */
export function sendPage(res: Response, vnode: VNode, status = 200): void {
  res
    .status(status)
    .type('html')
    .setHeader('Cache-Control', 'no-store')
    .send(`<!DOCTYPE html>${renderToString(vnode)}`);
}
