/**
 * Which legacy systems a case goes to: its explicit `targets`, else the first route in routes.yaml
 * whose itemCode glob matches (routes are read top to bottom, like a routing table), else
 * `unrouted` (reject, or a catch-all system).
 */
import picomatch from 'picomatch';
import type { GatewayConfig } from '../config/loader';
import type { RoutesFile } from '../config/schema';
import { ApiError } from '../platform/errors';
import type { Case } from './model';

type Matcher = (itemCode: string) => boolean;
const compiled = new WeakMap<RoutesFile, Matcher[]>();

function matchers(routes: RoutesFile): Matcher[] {
  let found = compiled.get(routes);
  if (!found) {
    found = routes.routes.map((r) => picomatch(r.itemCode, { nocase: false, dot: true }));
    compiled.set(routes, found);
  }
  return found;
}

export function routeCase(c: Case, config: GatewayConfig): string[] {
  if (c.targets) {
    const details = c.targets.flatMap((t, i) => {
      const system = config.systems.get(t);
      if (!system) return [{ path: `targets[${i}]`, message: `unknown system "${t}"` }];
      // A system that only answers look-ups has no mapping to receive a case with.
      return system.request ? [] : [{ path: `targets[${i}]`, message: `system "${t}" only answers look-ups; it receives no cases` }];
    });
    if (details.length > 0) throw new ApiError('invalid_case', 'The case names systems that are not configured.', details);
    return [...new Set(c.targets)];
  }
  const index = matchers(config.routes).findIndex((m) => m(c.itemCode));
  if (index >= 0) return [...new Set(config.routes.routes[index]!.targets)];
  if (config.routes.unrouted !== 'reject') return [config.routes.unrouted];
  throw new ApiError('no_route', `No legacy system is routed for itemCode "${c.itemCode}".`, [{ path: 'itemCode', message: 'matches no route' }]);
}
