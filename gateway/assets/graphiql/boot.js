// Starts GraphiQL on the page the gateway serves at GET /graphql. It is a file of its own, not inline script,
// so the page's Content-Security-Policy can allow only same-origin scripts.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || "/graphql";
  // The README's first example, so a newcomer can press Run at once.
  var exampleQuery = [
    "# Welcome to QuickMart. Press Run (Ctrl-Enter) to list the three cheapest products in stock.",
    "# Signed-in operations need {\"Authorization\": \"Bearer <accessToken>\"} in the Headers tab below;",
    "# `register` or `login` returns the token.",
    "{",
    "  products(first: 3, sort: PRICE_ASC, filter: { inStock: true }) {",
    "    nodes { id name price { amount currency } stock category { name } }",
    "  }",
    "}",
    "",
  ].join("\n");
  var root = document.getElementById("graphiql");
  root.textContent = "";
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery: exampleQuery,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    })
  );
})();
