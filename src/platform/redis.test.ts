import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { createRedis, isCluster, isRedisUnavailable, launchEmbeddedRedis, parseRedisUrl, RedisUrlError } from './redis';
import { jobIdFor, queueName } from '../delivery/queues';

describe('REDIS_URL', () => {
  it('reads one server as ioredis does, TLS included', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('rediss://u:p@redis.example:6380/2')).toEqual({ kind: 'standalone', url: 'rediss://u:p@redis.example:6380/2' });
  });

  it('reads one server on this machine by its Unix socket, with a database and a password', () => {
    expect(parseRedisUrl('unix:///var/run/redis/redis.sock')).toEqual({ kind: 'socket', path: '/var/run/redis/redis.sock', db: 0 });
    expect(parseRedisUrl('unix://:s%40cret@/srv/ow/data/redis/redis.sock?db=2')).toEqual({ kind: 'socket', path: '/srv/ow/data/redis/redis.sock', db: 2, password: 's@cret' });
    // A relative path has no meaning to a service started from elsewhere.
    expect(() => parseRedisUrl('unix://data/redis.sock')).toThrow(RedisUrlError);
  });

  it('reads a Cluster from any of its nodes, with the data nodes\' user and password', () => {
    expect(parseRedisUrl('redis-cluster://ow:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002')).toEqual({
      kind: 'cluster',
      tls: false,
      username: 'ow',
      password: 's@cret',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(parseRedisUrl('rediss-cluster://:pw@h:7000')).toMatchObject({ kind: 'cluster', tls: true, password: 'pw' });
  });

  it('reads Sentinel: the Sentinels, the master name, a database, and the Sentinels\' own password', () => {
    expect(parseRedisUrl('redis-sentinel://:pw@s1:26379,s2/mymaster?sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 0,
      tls: false,
      password: 'pw',
      sentinelPassword: 'sp',
    });
    expect(parseRedisUrl('rediss-sentinel://s1:26380/ow-master/3')).toMatchObject({ kind: 'sentinel', masterName: 'ow-master', db: 3, tls: true });
  });

  it.each([
    ['http://127.0.0.1:6379', 'is not a Redis URL'],
    ['redis://a:1,b:2', 'say redis-sentinel:// or redis-cluster://'],
    ['redis-sentinel://s1:26379', '/masterName'],
    ['redis-sentinel://s1:26379/m/x', '/masterName'],
    ['redis-cluster://h:7000/1', 'only database 0'],
    ['redis-cluster://h:99999', 'bad host:port'],
  ])('refuses %s with a message naming the forms', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(why);
    expect(() => parseRedisUrl(url)).toThrow('redis-cluster://');
  });

  it('never shows a password in its error', () => {
    expect(() => parseRedisUrl('ftp://user:topsecret@h')).toThrow(/^(?!.*topsecret)/s);
  });

  it('builds a Cluster client for the cluster form and a plain one otherwise, with the options BullMQ needs', () => {
    const cluster = createRedis('redis-cluster://127.0.0.1:1,127.0.0.1:2', 'worker');
    const intake = createRedis('redis-cluster://127.0.0.1:1', 'intake');
    const single = createRedis('redis://127.0.0.1:1', 'worker');
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect(isCluster(cluster) && isCluster(intake) && !isCluster(single)).toBe(true);
      // A BullMQ Worker refuses a connection whose nodes would give up on a blocking command.
      expect((cluster as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect((intake as Cluster).options.enableOfflineQueue).toBe(false);
      // ioredis 5 batches a script by its key count, not its key, on a Cluster (redis/ioredis#2109).
      for (const c of [cluster, intake] as Cluster[]) expect([c.options.enableAutoPipelining, c.options.redisOptions?.enableAutoPipelining]).toEqual([false, undefined]);
      expect(single).toBeInstanceOf(Redis);
      expect((single as Redis).options.maxRetriesPerRequest).toBeNull();
    } finally {
      for (const c of [cluster, intake, single]) c.disconnect();
    }
  });

  it('counts a Cluster that is down or still learning its slots as Redis unavailable (503), not a bug (500)', () => {
    expect(isRedisUnavailable(new Error('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisUnavailable(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisUnavailable(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  });
});

describe('BullMQ names on a Cluster', () => {
  it('hash-tags every delivery queue by its system, so one queue is one slot and queues spread', () => {
    expect(queueName('city-alpha')).toBe('{delivery-city-alpha}');
  });

  it('gives integer-looking case ids a job id BullMQ accepts, distinct from every other case id', () => {
    expect(jobIdFor('FI-00001')).toBe('FI-00001');
    expect(jobIdFor('007')).toBe('007');
    expect(jobIdFor('12345')).toBe('case.12345');
    expect(jobIdFor('-1')).toBe('case.-1');
    // No case id holds a ".", so no other case maps to "case.12345".
    expect(/^[A-Za-z0-9_-]+$/.test(jobIdFor('12345'))).toBe(false);
  });
});

describe('the embedded redis-server', () => {
  it('when its data folder’s path is too long for a socket, then it listens in a private folder of its own, gone when it stops', async () => {
    const deep = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-embedded-')), 'a-data-folder-name-long-enough'.repeat(3), 'redis');
    const embedded = await launchEmbeddedRedis(deep);
    const target = parseRedisUrl(embedded.url);
    if (target.kind !== 'socket') throw new Error(`expected a socket, got ${embedded.url}`);
    const folder = path.dirname(target.path);
    try {
      expect(folder.startsWith(os.tmpdir())).toBe(true);
      expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
      const client = createRedis(embedded.url, 'worker');
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
      }
    } finally {
      await embedded.stop();
    }
    expect(fs.existsSync(folder)).toBe(false);
    expect(fs.existsSync(deep)).toBe(true);
  }, 30_000);
});
