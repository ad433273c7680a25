import { isPlaceholder, weakSecrets } from './secrets';

describe('weak secrets', () => {
  it.each(['change-me-ops-token', 'CHANGE_ME', 'changeme', 'replace-me-please', 'secret', 'Password', 'https://intake.example/x', 'your-token-here', '<token>'])('when a value is "%s", then it is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each(['3f9a1c0e7b5d2a8c4e6f1b3d5a7c9e0f', 'demo-city-housing-token', 'test-intake-token', ''])('when a value is "%s", then it is not', (value) => {
    expect(isPlaceholder(value)).toBe(false);
  });

  it('when one token of a rotation list is short, then the variable is named once, without the value', () => {
    const problems = weakSecrets({ OW_INTAKE_TOKEN: '3f9a1c0e7b5d2a8c4e6f, abc,def', OW_OPS_TOKEN: '3f9a1c0e7b5d2a8c4e6f', OW_INTAKE_HMAC_SECRET: '0123456789abcdef' });
    expect(problems).toEqual([expect.stringMatching(/^OW_INTAKE_TOKEN is shorter than 16 bytes/)]);
    expect(problems.join()).not.toMatch(/abc|def/);
  });

  it('when a token is Chinese, then its bytes count, not its characters (5 characters are 15 bytes)', () => {
    expect(weakSecrets({ OW_OPS_TOKEN: '值班员令牌六' })).toEqual([]);
    expect(weakSecrets({ OW_OPS_TOKEN: '值班员令牌' })).toEqual([expect.stringContaining('OW_OPS_TOKEN is shorter than 16 bytes')]);
  });
});
