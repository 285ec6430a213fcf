// Starts `wfc lsp` (the wf language server) for .wf files; the command is the setting
// `wf.server.command` (default: wfc on the PATH, installed with `pip install 'wfc-lang[lsp]'`).
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const configured = vscode.workspace.getConfiguration("wf").get("server.command") || ["wfc", "lsp"];
  const [command, ...args] = configured;
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("wf", "wf language server", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "wf" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
