// The guidec extension: starts `guidec lsp` for .guide files and puts a finding's witness
// patient on the clipboard when its code lens is clicked. Plain JavaScript, no build step.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function start() {
  const config = vscode.workspace.getConfiguration("guidec");
  const server = {
    command: config.get("server.command", "guidec"),
    args: config.get("server.args", ["lsp"]),
  };
  client = new LanguageClient("guidec", "guidec", server, {
    documentSelector: [{ language: "guide" }],
  });
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `guidec: could not start "${server.command} ${server.args.join(" ")}" (${err.message}). ` +
        "Install guidec (pip install -e . in its checkout) or set guidec.server.command."
    );
  });
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("guidec.copyWitness", async (patient) => {
      await vscode.env.clipboard.writeText(String(patient));
      vscode.window.showInformationMessage(
        "guidec: witness patient copied (JSON: save it and run guidec eval FILE --patient it)."
      );
    }),
    vscode.commands.registerCommand("guidec.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start();
    }),
    { dispose: () => (client ? client.stop() : undefined) }
  );
  return start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
