import Redis from 'ioredis';
import { CircuitBreakers } from './circuit';

const url = () => process.env.OW_TEST_REDIS_URL!;

describe('when a system keeps failing', () => {
  let redis: Redis;
  let circuits: CircuitBreakers;
  const policy = { failureThreshold: 3, cooldownMs: 1000 };

  beforeAll(() => {
    redis = new Redis(url());
    circuits = new CircuitBreakers(redis, `tcircuit${Date.now()}`);
  });
  afterAll(() => redis.disconnect());

  it('then the circuit opens at the threshold, lets one probe through after the cool-down, and closes on success', async () => {
    const t0 = 1_000_000;
    expect(await circuits.admit('sys-a', t0, 500)).toEqual({ send: true, probe: false, clean: true });
    expect(await circuits.failed('sys-a', t0, policy)).toBe(false);
    expect(await circuits.failed('sys-a', t0, policy)).toBe(false);
    expect(await circuits.failed('sys-a', t0, policy)).toBe(true);
    expect(await circuits.admit('sys-a', t0 + 400, 500)).toEqual({ send: false, waitMs: 600 });
    expect(await circuits.admit('sys-a', t0 + 1000, 500)).toEqual({ send: true, probe: true, clean: false });
    // While the probe is out, nobody else goes (they look again within half a second).
    expect(await circuits.admit('sys-a', t0 + 1100, 500)).toEqual({ send: false, waitMs: 400 });
    await circuits.succeeded('sys-a');
    expect(await circuits.admit('sys-a', t0 + 1200, 500)).toEqual({ send: true, probe: false, clean: true });
    // A failure below the threshold leaves the circuit closed but not clean: the next success resets it.
    await circuits.failed('sys-a', t0 + 1300, policy);
    expect(await circuits.admit('sys-a', t0 + 1300, 500)).toEqual({ send: true, probe: false, clean: false });
  });

  it('then a failed probe opens the circuit again at once, and a probe that never reports back is replaced', async () => {
    const t0 = 2_000_000;
    for (let i = 0; i < 3; i++) await circuits.failed('sys-b', t0, policy);
    expect(await circuits.admit('sys-b', t0 + 1000, 500)).toEqual({ send: true, probe: true, clean: false });
    expect(await circuits.failed('sys-b', t0 + 1100, policy)).toBe(true);
    expect(await circuits.admit('sys-b', t0 + 1200, 500)).toMatchObject({ send: false });
    expect(await circuits.admit('sys-b', t0 + 2100, 500)).toEqual({ send: true, probe: true, clean: false });
    // The probe's process died: after its time is up another probe may go.
    expect(await circuits.admit('sys-b', t0 + 2700, 500)).toEqual({ send: true, probe: true, clean: false });
  });
});
