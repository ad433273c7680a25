/**
 * The ops console (GET /console): one typed app, bundled by esbuild (scripts/bundle-console.ts) with
 * nothing fetched from elsewhere. The page itself holds no data; everything it shows comes from the
 * admin API, called with the ops token typed in (kept in this tab's sessionStorage only).
 */
import { render } from 'preact';
import { App, restoreWall } from './app';
import { initialLang, setLang } from './language';
import { resume } from './login';

setLang(initialLang(), false);
restoreWall();
// A token in this tab (a reload): its role is asked before anything is shown.
void resume();
render(<App />, document.getElementById('console')!);
