// Values fixed at build time (build.mjs defines __LC_BUILD__ from the environment).
/* global __LC_BUILD__ */
export const BUILD = __LC_BUILD__;
