import { requireChromium } from './browser';

describe('browser test setup', () => {
  it('when Chromium is missing, then the browser tests fail saying to install Debian’s chromium package', () => {
    expect(() => requireChromium('/nowhere/chromium', __filename)).toThrow(
      /need Chromium at \/nowhere\/chromium: install Debian's chromium package/,
    );
  });

  it('when Chromium’s French locale is missing, then they fail saying to install chromium-l10n', () => {
    expect(() => requireChromium(__filename, '/nowhere/fr.pak')).toThrow(
      /French locale .*install Debian's chromium-l10n package/,
    );
  });

  it('when both are there, then nothing is thrown', () => {
    expect(() => requireChromium(__filename, __filename)).not.toThrow();
  });
});
