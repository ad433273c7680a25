/**
 * The ops web console (`GET /console`): static files served from the source folder
 * `src/admin/console/`: the page (index.html) and its style sheets, and the app that
 * `npm run build` bundles from the TypeScript there into its `bundle/` folder
 * (scripts/bundle-console.ts): console.js, the editor's system-page.js, and any chunk they share.
 * The page itself holds no data and is public; everything it shows comes from the admin API,
 * called with the ops token the user types in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';
import helmet from 'helmet';
import { ApiError } from '../platform/errors';
import { errors, NONE } from '../api-docs';
import { route } from '../platform/route';

/** The hand-written files served, with their types. */
const STATIC: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'system-page.css': 'text/css; charset=utf-8',
};

/** A file of the bundle (the build's names: letters, digits and dashes); nothing else under the folder is reachable. */
const BUNDLED = /^[A-Za-z0-9-]+\.js$/;

/**
 * Where the files are: beside this module when it runs from `src/` (ts-jest, ts-node), or back in
 * `src/admin/console` when it runs compiled from `dist/src/admin/` (the build copies no assets).
 */
export function consoleDir(): string | undefined {
  const candidates = [path.join(__dirname, 'console'), path.resolve(__dirname, '../../../src/admin/console')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

// Everything the page needs comes from this origin; nothing is framed, inlined or fetched elsewhere.
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
});

export interface ConsoleRoutesOptions {
  /** The folder holding index.html, the style sheets and bundle/; found automatically by default. */
  dir?: string;
}

export function consoleRoutes(options: ConsoleRoutesOptions = {}): Router {
  const router = Router();
  const dir = options.dir ?? consoleDir();

  async function send(res: Response, file: string): Promise<void> {
    if (!dir) throw new ApiError('not_found', 'The ops console files are not installed (src/admin/console was not found next to the gateway).');
    const bundled = !Object.hasOwn(STATIC, file);
    const body = await fs.promises.readFile(bundled ? path.join(dir, 'bundle', file) : path.join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ApiError('not_found', bundled ? `The ops console has no file ${file} (built by npm run build).` : `The ops console file ${file} is missing.`);
      throw err;
    });
    res.set('Cache-Control', 'no-cache').type(bundled ? 'text/javascript; charset=utf-8' : STATIC[file]!).send(body);
  }

  router.use('/console', securityHeaders);
  route(
    router,
    {
      method: 'get',
      path: '/console',
      alsoAt: ['/console/', '/console/index.html'],
      operationId: 'console',
      tags: ['admin'],
      summary: 'The ops web console',
      description: 'A static page (with /console/console.css and /console/console.js) that holds no data: everything it shows comes from the admin API, called with the ops token typed in.',
      security: NONE,
      responses: { '200': { description: 'The console page.', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors(['not_found']) },
    },
    async (_req, res) => {
    await send(res, 'index.html');
  });
  router.get('/console/:file', async (req, res, next) => {
    const file = String(req.params.file);
    if (!Object.hasOwn(STATIC, file) && !BUNDLED.test(file)) return next();
    await send(res, file);
  });
  return router;
}
