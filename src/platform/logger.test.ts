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

  it('never carries a secret named in its object (at the top or one level down) or in a child logger’s bindings', () => {
    const lines: string[] = [];
    const log = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });
    const child = log.child({ caseId: 'QZ-1', token: 'tok-in-binding', phone: '13900000000' });
    child.info({ token: 'tok-top', headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: 'text/plain' }, system: { id: 'city-a', secret: 's3cret', phone: '13800000000' } }, 'called');
    const text = lines.join('\n');
    for (const secret of ['tok-in-binding', '13900000000', 'tok-top', 'Bearer abc', 'sid=1', 's3cret', '13800000000']) expect(text).not.toContain(secret);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ caseId: 'QZ-1', token: '[redacted]', phone: '[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]', accept: 'text/plain' }, system: { id: 'city-a', secret: '[redacted]', phone: '[redacted]' } });
  });
});
