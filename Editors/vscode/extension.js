// Starts `kbq lsp` for .kbq files: the server gives diagnostics (with quick fixes),
// completion, hover, definitions, references, symbols, formatting and semantic tokens.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("kbq");
  const command = settings.get("path") || "kbq";
  const kb = settings.get("kb") || "";
  client = new LanguageClient(
    "kbq",
    "kbq",
    { command, args: ["lsp"], options: {} },
    {
      documentSelector: [{ language: "kbq" }],
      initializationOptions: kb ? { kb } : {},
      synchronize: { configurationSection: "kbq" },
    }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
