import { msUntilOpen } from './window';

const window = {
  timezone: 'Asia/Shanghai',
  days: [1, 2, 3, 4, 5],
  hours: ['08:30-12:00', '13:30-17:30'],
  exceptions: [
    { date: '2026-10-01', open: false }, // National Day, a Thursday
    { date: '2026-10-10', open: true }, // a make-up working Saturday
  ],
};
const at = (iso: string) => new Date(iso);
const minutes = (ms: number) => ms / 60_000;

describe('maintenance window', () => {
  it('when inside the hours of a working day, then it is open', () => {
    expect(msUntilOpen(window, at('2026-11-27T09:00:00+08:00'))).toBe(0);
    expect(msUntilOpen(window, at('2026-11-27T17:29:59+08:00'))).toBe(0);
  });

  it('when at lunch, then it opens at 13:30 the same day', () => {
    expect(minutes(msUntilOpen(window, at('2026-11-27T12:00:00+08:00')))).toBe(90);
  });

  it('when on Friday evening, then it opens on Monday at 08:30, in its own time zone', () => {
    expect(minutes(msUntilOpen(window, at('2026-11-27T17:30:00+08:00')))).toBe((2 * 24 + 15) * 60);
    expect(minutes(msUntilOpen(window, at('2026-11-27T10:30:00Z')))).toBe((2 * 24 + 14) * 60);
  });

  it('when a dated exception closes a working day or opens a weekend day, then it is followed', () => {
    expect(minutes(msUntilOpen(window, at('2026-10-01T10:00:00+08:00')))).toBe(22.5 * 60);
    expect(msUntilOpen(window, at('2026-10-10T10:00:00+08:00'))).toBe(0);
  });

  it('when the hours run to 24:00, then the window is open until midnight', () => {
    const always = { timezone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5, 6, 7], hours: ['00:00-24:00'], exceptions: [] };
    expect(msUntilOpen(always, at('2026-11-28T23:59:00+08:00'))).toBe(0);
  });
});
