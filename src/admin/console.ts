/**
 * The ops web console (`GET /console`): static files served from the source folder
 * `src/admin/console/`: four hand-written ones (index.html, console.css, words.js, console.js), and
 * the system page's bundle that `npm run build` writes beside them (scripts/bundle-console.ts). The
 * page itself holds no data and is public; everything it
 * shows comes from the admin API, called with the ops token the user types in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';
import helmet from 'helmet';
import { ApiError } from '../platform/errors';
import { errors, NONE } from '../api-docs';
import { route } from '../platform/route';

/** The only files served, with their types: nothing else under the folder is reachable. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'words.js': 'text/javascript; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  // The system page: bundled from system/ by scripts/bundle-console.ts (npm run build), not committed.
  'system-page.js': 'text/javascript; charset=utf-8',
  'system-page.css': 'text/css; charset=utf-8',
};

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
  /** The folder holding index.html, console.css, words.js and console.js; found automatically by default. */
  dir?: string;
}

export function consoleRoutes(options: ConsoleRoutesOptions = {}): Router {
  const router = Router();
  const dir = options.dir ?? consoleDir();

  async function send(res: Response, file: string): Promise<void> {
    if (!dir) throw new ApiError('not_found', 'The ops console files are not installed (src/admin/console was not found next to the gateway).');
    const body = await fs.promises.readFile(path.join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ApiError('not_found', `The ops console file ${file} is not built (run npm run build).`);
      throw err;
    });
    res.set('Cache-Control', 'no-cache').type(FILES[file]!).send(body);
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
    if (!Object.hasOwn(FILES, file)) return next();
    await send(res, file);
  });
  return router;
}
