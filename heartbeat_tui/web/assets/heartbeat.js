// HeartBeat's page, loaded before textual-serve's textual.js (which it does not change):
// - the websocket's address comes from where the page was loaded (works behind a proxy,
//   under any path), never from an address the server wrote in;
// - the terminal takes the keyboard as soon as the session connects (no first key lost);
// - a session the server closed says why (full, refused, ended), and "Start again" reloads.
(function () {
  "use strict";
  var NativeWebSocket = window.WebSocket;

  function socketUrl() {
    var url = new URL("ws", window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    return url.toString();
  }

  function focusTerminal() {
    var input = document.querySelector("#terminal .xterm-helper-textarea");
    if (input) {
      input.focus();
    }
  }

  function closedMessage(event) {
    if (event.reason) {
      return event.reason;
    }
    if (event.code === 1006 && !document.body.classList.contains("-first-byte")) {
      return "Could not start a session (refused, or the server is away).";
    }
    return "Session ended.";
  }

  // textual.js opens exactly one websocket, with `new WebSocket(url)`: watch it.
  function HeartbeatWebSocket(url, protocols) {
    var socket = protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
    var focused = false;
    socket.addEventListener("open", focusTerminal);
    socket.addEventListener("message", function () {
      if (!focused) {
        focused = true;
        focusTerminal();
      }
    });
    socket.addEventListener("close", function (event) {
      var message = document.getElementById("closed-message");
      if (message) {
        message.textContent = closedMessage(event);
      }
    });
    return socket;
  }
  HeartbeatWebSocket.prototype = NativeWebSocket.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (name) {
    HeartbeatWebSocket[name] = NativeWebSocket[name];
  });
  window.WebSocket = HeartbeatWebSocket;

  document.addEventListener("DOMContentLoaded", function () {
    var terminal = document.getElementById("terminal");
    if (terminal) {
      terminal.dataset.sessionWebsocketUrl = socketUrl();
      terminal.addEventListener("mousedown", focusTerminal);
    }
    var restart = document.getElementById("restart");
    if (restart) {
      restart.addEventListener("click", function () {
        window.location.reload();
      });
    }
  });
})();
