// Tokenises .guide files with the extension's TextMate grammar, as VS Code does (vscode-textmate
// on the Oniguruma regular expressions), and prints, as JSON, each file's tokens whose scope is
// `invalid.*`: {"path": [[line, column, "text", "scope"], ...]} (1-based; [] when clean).
// Usage: node test/tokenize.js FILE...   (the paths may also come one per line on stdin)
"use strict";

const fs = require("fs");
const path = require("path");
const oniguruma = require("vscode-oniguruma");
const textmate = require("vscode-textmate");

const here = path.resolve(__dirname, "..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      if (scope !== "source.guide") return null;
      const file = path.join(here, "syntaxes", "guide.tmLanguage.json");
      return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.guide");
  let files = process.argv.slice(2);
  if (files.length === 0) {
    files = fs.readFileSync(0, "utf8").split("\n").filter((f) => f.length > 0);
  }
  const out = {};
  for (const file of files) {
    const lines = fs.readFileSync(file, "utf8").split(/\r\n|\r|\n/);
    let state = textmate.INITIAL;
    const bad = [];
    lines.forEach((line, k) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const scope = token.scopes.find((s) => s.startsWith("invalid"));
        if (scope) {
          bad.push([k + 1, token.startIndex + 1, line.slice(token.startIndex, token.endIndex), scope]);
        }
      }
      state = result.ruleStack;
    });
    out[file] = bad;
  }
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
