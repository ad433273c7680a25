import pino from 'pino';
import { loggerOptions } from './logger';

describe('a log line', () => {
  it('never carries a full ID or phone number, whether in the message, a field or a redacted path', () => {
    const lines: string[] = [];
    const log = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });
    log.warn({ err: 'city-a answered HTTP 500: sfzh=330802199001011234 tel 13800000000', applicant: { idNumber: '330802199001011234' } }, 'refused for 33080219900101123X');
    log.info('plain %s', 'text');
    const text = lines.join('\n');
    expect(text).not.toMatch(/330802199001011234|13800000000|33080219900101123X/);
    expect(text).toContain('330*************34');
    expect(JSON.parse(lines[0]!).applicant.idNumber).toBe('[redacted]');
    expect(JSON.parse(lines[1]!).msg).toBe('plain text');
  });
});
