/**
 * A gateway with time limits on a test clock: one REST legacy system that acknowledges every case,
 * the item catalogue and the shipped 2026 calendar, and a clock the test moves by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { legacyServer, replyJson, restSystem, writeConfig, type LegacyServer } from '../support/harness';

export const RESULT_TOKEN = 'clock-result-token';
/** jg: 1 approved, 0 rejected, 2 need_more, 3 info (with a special procedure when tsjd is set). */
export const RESULT_MAP =
  '{"caseId": ywh, "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more", "3": "info"}, jg), "message": yj, "procedure": tsjd ? {"kind": tscx, "phase": tsjd}}';

export const ITEMS = {
  items: [
    { itemCode: '330800-FG-*', name: '房改房上市审核', type: 2, legalDays: 20, promisedDays: 5, warnDays: 2 },
    { itemCode: '330800-JB-*', name: '即办事项', type: 1, promisedHours: 2 },
  ],
};

/** A clock the test sets; the gateway reads it wherever it tells the time. */
export class TestClock {
  constructor(private at: Date) {}
  now = (): Date => new Date(this.at);
  set(iso: string): void {
    this.at = new Date(iso);
  }
}

/** `timeLimitTickMs` for a gateway whose test checks the time limits by hand, on its own clock: no scheduled check. */
export const BY_HAND = 0;

export interface ClockWorld {
  dir: string;
  legacy: LegacyServer;
  callbacks: LegacyServer;
  /** Closes the legacy system and the callback receiver. */
  close(): Promise<void>;
}

/** The configuration folder, a legacy system (city-housing-reform, also level `provincial` twin) and a callback receiver. */
export async function clockWorld(gateway: Record<string, unknown> = {}): Promise<ClockWorld> {
  const callbacks = await legacyServer((_req, _n, res) => replyJson(res, 200, { ok: true }));
  const legacy = await legacyServer((req, _n, res) => {
    const body = req.json as { bizNo: string };
    replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${body.bizNo}` } });
  });
  const system = (id: string, level: string) => restSystem(id, `${legacy.url}/cases/${id}`, { level, result: { mode: 'push', map: RESULT_MAP, inboundToken: RESULT_TOKEN } });
  const dir = writeConfig(
    [system('city-housing-reform', 'city'), system('prov-housing', 'provincial')],
    { routes: [{ itemCode: '330800-FG-9*', targets: ['city-housing-reform', 'prov-housing'] }, { itemCode: '*', targets: ['city-housing-reform'] }] },
    { intake: { callbackUrl: `${callbacks.url}/callbacks`, callbackSecret: 'clock-callback-secret' }, ...gateway },
  );
  fs.writeFileSync(path.join(dir, 'items.yaml'), YAML.stringify(ITEMS));
  fs.mkdirSync(path.join(dir, 'calendar'));
  fs.copyFileSync(path.join(__dirname, '..', '..', 'config', 'calendar', '2026.yaml'), path.join(dir, 'calendar', '2026.yaml'));
  const close = async () => {
    await legacy.close();
    await callbacks.close();
  };
  return { dir, legacy, callbacks, close };
}
