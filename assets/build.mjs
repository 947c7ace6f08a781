// Builds the front-end assets into infoshare/static/dist, from packages
// installed from the npm registry. Run by `npm run build` (the Makefile does).
//
// GOV.UK Frontend is compiled from its Sass with the system font stack, so
// neither the GDS Transport font nor any crown artwork is shipped: this
// service is not on GOV.UK.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "infoshare", "static", "dist");
const modules = join(root, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(join(root, "assets", "scss", "app.scss"), {
  loadPaths: [modules],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), css.css);

cpSync(join(modules, "govuk-frontend", "dist", "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(modules, "htmx.org", "dist", "htmx.min.js"), join(out, "htmx.min.js"));
cpSync(join(root, "assets", "js"), out, { recursive: true });
cpSync(join(root, "assets", "images"), join(out, "images"), { recursive: true });

console.log(`Front-end assets built in ${out}`);
