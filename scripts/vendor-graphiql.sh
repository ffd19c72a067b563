#!/usr/bin/env bash
# The GraphiQL the gateway serves is vendored, not fetched at run time or at build time (docs/ARCHITECTURE.md,
# "GraphiQL"): GraphiQL 4.1.2's UMD build with React 18.3.1 (GraphiQL 5 and React 19 ship no UMD build, and a
# bundler step would add a Node toolchain to every build). The files live in gateway/assets/graphiql/ with their
# SHA-256 sums; `include_bytes!` puts them into the binary.
#
#   scripts/vendor-graphiql.sh          download the pinned packages from the npm registry (npm checks each
#                                       tarball against the registry's sha512 integrity), copy the files, and
#                                       rewrite SHA256SUMS
#   scripts/vendor-graphiql.sh --check  offline: fail unless every vendored file matches SHA256SUMS
set -euo pipefail
cd "$(dirname "$0")/.."

ASSETS=gateway/assets/graphiql
GRAPHIQL=4.1.2
REACT=18.3.1
# boot.js, beside them, is ours and not summed.
VENDORED=(graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)

if [[ "${1:-}" == "--check" ]]; then
  (cd "$ASSETS" && sha256sum --quiet -c SHA256SUMS)
  echo "gateway/assets/graphiql: every file matches SHA256SUMS"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$WORK/$package" && tar xzf "$WORK/$package.tgz" -C "$WORK/$package"
done
cp "$WORK/graphiql-$GRAPHIQL/package/graphiql.min.js" "$WORK/graphiql-$GRAPHIQL/package/graphiql.min.css" "$ASSETS/"
cp "$WORK/react-$REACT/package/umd/react.production.min.js" "$ASSETS/"
cp "$WORK/react-dom-$REACT/package/umd/react-dom.production.min.js" "$ASSETS/"
# The source maps' comments would make browsers' developer tools ask for files that are not served.
sed -i '/^\/\/# sourceMappingURL=/d' "$ASSETS/graphiql.min.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$ASSETS/graphiql.min.css"
{
  echo "GraphiQL $GRAPHIQL, React $REACT and ReactDOM $REACT, from the npm registry; all MIT-licensed."
  for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    echo; echo "== $package =="; cat "$WORK/$package/package/LICENSE"
  done
} >"$ASSETS/LICENSES.txt"
(cd "$ASSETS" && sha256sum "${VENDORED[@]}" LICENSES.txt >SHA256SUMS)
echo "vendored into $ASSETS:"
cat "$ASSETS/SHA256SUMS"
