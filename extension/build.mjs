// Builds the extension with esbuild.
//   node build.mjs          -> dist/ (InboxSDK adapter) and leadcamp-extension.zip for the store
//   node build.mjs --test   -> dist-test/ (the fake Gmail adapter the e2e tests drive)
//   --outdir=DIR            -> that directory instead (and DIR.zip): tests check the real build
// Environment: INBOXSDK_APP_ID (required for dist/: your app id from InboxSDK),
// LEADCAMP_SERVER_URL (optional: the server preset in the options, granted host access).

import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { writeZip } from "./tools/zip.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const test = process.argv.includes("--test");
const outdirArg = process.argv.find((arg) => arg.startsWith("--outdir="));
const outdir = outdirArg ? outdirArg.slice("--outdir=".length) : join(here, test ? "dist-test" : "dist");
const appId = process.env.INBOXSDK_APP_ID || "";
const serverUrl = (process.env.LEADCAMP_SERVER_URL || "").replace(/\/+$/, "");

if (!test && !appId) {
  console.error(
    "INBOXSDK_APP_ID is not set: register the app at https://register.inboxsdk.com/ and build with " +
      "INBOXSDK_APP_ID=... (see docs/extension.md).",
  );
  process.exit(1);
}

function hostPattern(url) {
  const { protocol, hostname } = new URL(url);
  return `${protocol}//${hostname}/*`; // match patterns cover every port of the host
}

const adapter = join(here, "src/content/gmail", test ? "fake.js" : "inboxsdk.js");
const selectAdapter = {
  name: "gmail-adapter",
  setup(b) {
    b.onResolve({ filter: /^gmail-adapter$/ }, () => ({ path: adapter }));
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: {
    background: join(here, "src/background/index.js"),
    content: join(here, "src/content/index.js"),
    options: join(here, "src/options/options.js"),
  },
  outdir,
  bundle: true,
  format: "iife",
  target: "chrome116",
  minify: !test,
  sourcemap: test ? "inline" : false,
  legalComments: "external",
  define: { __LC_BUILD__: JSON.stringify({ inboxsdkAppId: appId, serverUrl, test }) },
  plugins: [selectAdapter],
  logLevel: "warning",
});

const manifest = JSON.parse(readFileSync(join(here, "manifest.json"), "utf8"));
manifest.version = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).version;
if (serverUrl) manifest.host_permissions.push(hostPattern(serverUrl));
writeFileSync(join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2));
copyFileSync(join(here, "node_modules/@inboxsdk/core/pageWorld.js"), join(outdir, "pageWorld.js"));
for (const file of ["options.html", "options.css"]) {
  copyFileSync(join(here, "src/options", file), join(outdir, file));
}
for (const file of readdirSync(join(here, "static"))) {
  copyFileSync(join(here, "static", file), join(outdir, file));
}

if (!test) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push({ name: relative(outdir, path), data: readFileSync(path) });
    }
  };
  walk(outdir);
  writeZip(outdirArg ? `${outdir}.zip` : join(here, "leadcamp-extension.zip"), files);
}
console.log(`built ${relative(process.cwd(), outdir) || "."}${test ? " (test adapter)" : ""}`);
