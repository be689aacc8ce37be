#!/usr/bin/env bash
# Browser tests drive Debian's chromium through pip's playwright (never `playwright install`).
# Install it when it is missing and we can; otherwise say why the browser tests will skip.
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "chromium ontbreekt: installeren met apt-get (voor de browsertests)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || {
    echo "Installatie van chromium mislukt." >&2
    [ -n "${CI:-}" ] && exit 1
  }
else
  echo "chromium ontbreekt en apt-get (als root) is niet beschikbaar: browsertests worden overgeslagen."
  [ -n "${CI:-}" ] && { echo "CI is gezet: browsertests moeten draaien." >&2; exit 1; }
fi
exit 0
