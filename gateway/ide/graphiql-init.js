// GraphiQL for the Werkvloer gateway. A file of its own rather than an inline script, so the
// page runs under a Content-Security-Policy that allows scripts from this origin only.
(function () {
  "use strict";
  var url = window.location.href.split("#")[0].split("?")[0];
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var example =
    "# Werkvloer GraphQL. Put your token in the Headers tab:\n" +
    '# {"Authorization": "Bearer <token from make token>"}\n' +
    "{\n  health {\n    service\n    status\n  }\n}\n";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: example,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // A bearer token is a secret: it is not written to the browser's local storage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    })
  );
})();
