import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const EXTENSION = new URL("..", import.meta.url).pathname;

/** The real build (the InboxSDK adapter, minified, as shipped), made into a temporary directory. */
function realBuild() {
  const dir = join(mkdtempSync(join(tmpdir(), "lc-build-")), "dist");
  execFileSync("node", ["build.mjs", `--outdir=${dir}`], {
    cwd: EXTENSION,
    env: { ...process.env, INBOXSDK_APP_ID: "sdk_leadcamp_test0000", LEADCAMP_SERVER_URL: "" },
    stdio: "pipe",
  });
  return dir;
}

/** The resources Gmail may load from the extension, for a page at `url`. */
function webAccessible(manifest, url) {
  const origin = new URL(url).origin;
  return (manifest.web_accessible_resources || [])
    .filter((entry) => entry.matches.some((m) => m === `${origin}/*`))
    .flatMap((entry) => entry.resources);
}

test("every extension URL the real content script puts in Gmail is web-accessible to Gmail only", () => {
  const dir = realBuild();
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    const content = readFileSync(join(dir, "content.js"), "utf8");
    const used = [...content.matchAll(/runtime\.getURL\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    assert.ok(used.includes("icon128.png"), `the receipt and sidebar icon: ${used}`);
    const allowed = webAccessible(manifest, "https://mail.google.com/mail/u/0/");
    for (const file of used) {
      assert.ok(allowed.includes(file), `${file} is not web-accessible in Gmail`);
      assert.ok(existsSync(join(dir, file)), `${file} is not in the build`);
    }
    for (const entry of manifest.web_accessible_resources) {
      assert.deepEqual(entry.matches, ["https://mail.google.com/*"], "no other site may load them");
    }
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});
