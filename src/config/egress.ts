/**
 * Where configuration may send the gateway (`egress.allow`): checked when a file
 * loads and when ops store a version, so an endpoint cannot be pointed at the gateway's own Redis,
 * a metadata service or a file. Only http and https are ever spoken. Host names are matched as
 * written; what they resolve to is the network's firewall to decide. Files (a WSDL and what it
 * imports) are read only from inside the configuration folder.
 */
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { Egress } from './schema';

interface Rule {
  /** An address range, or a host name (`*.` for any sub-domain). */
  range?: [ipaddr.IPv4 | ipaddr.IPv6, number];
  host?: string;
  port?: number;
}

function parseRule(entry: string): Rule | undefined {
  let target = entry.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(target);
  if (bracketed) {
    target = bracketed[1]!;
    port = bracketed[2] ? Number(bracketed[2]) : undefined;
  } else if (target.split(':').length === 2) {
    const [host, p] = target.split(':');
    if (!/^\d{1,5}$/.test(p!)) return undefined;
    target = host!;
    port = Number(p);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (ipaddr.isValidCIDR(target)) return { range: ipaddr.parseCIDR(target), port };
  if (ipaddr.isValid(target)) {
    const address = ipaddr.parse(target);
    return { range: [address, address.kind() === 'ipv4' ? 32 : 128], port };
  }
  if (/^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/.test(target)) return { host: target, port };
  return undefined;
}

/** The entries of `egress.allow` that are not understood, for the loader's error list. */
export function invalidEgressEntries(egress: Egress): string[] {
  return egress.allow.filter((entry) => !parseRule(entry));
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

function matches(rule: Rule, host: string, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.range) {
    if (!ipaddr.isValid(host)) return false;
    let address = ipaddr.parse(host);
    // ::ffff:127.0.0.1 is 127.0.0.1.
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
    return address.kind() === rule.range[0].kind() && address.match(rule.range);
  }
  const name = rule.host!;
  return name.startsWith('*.') ? host.endsWith(name.slice(1)) && host.length > name.length - 1 : host === name;
}

/**
 * Why `url` may not be used as an endpoint, or undefined when it may. `{caseId}` and `{receiptNo}`
 * placeholders (poll endpoints) are allowed in the path and query.
 */
export function egressRefusal(url: string, egress: Egress | undefined): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/\{(caseId|receiptNo)\}/g, 'x'));
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `only http and https are allowed, not ${parsed.protocol.replace(/:$/, '')}`;
  if (!egress) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = parsed.port ? Number(parsed.port) : defaultPort(parsed.protocol);
  const rules = egress.allow.map(parseRule).filter((r): r is Rule => r !== undefined);
  if (rules.some((rule) => matches(rule, host, port))) return undefined;
  return `${host}:${port} is not allowed by egress.allow in gateway.yaml`;
}

/**
 * Why `file` (relative to the configuration folder, or absolute) may not be read as a document of
 * the configuration, or undefined when it may: only files inside the folder are.
 */
export function fileRefusal(file: string, configDir: string): string | undefined {
  const folder = path.resolve(configDir);
  const relative = path.relative(folder, path.resolve(folder, file));
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return 'must be a file inside the configuration folder (or an http(s) URL)';
  return undefined;
}
