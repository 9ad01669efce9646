#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter, or explain what to install.
# Usage: tools/find_python.sh 3.10
set -u
want="$1"
candidates=("python$want")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/"$want".*/bin; do candidates+=("$dir/python$want"); done
fi
candidates+=(/usr/bin/python"$want" /usr/local/bin/python"$want")
for py in "${candidates[@]}"; do
  if out=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) && [ "$out" = "$want" ]; then
    command -v "$py" || echo "$py"
    exit 0
  fi
done
echo "error: Python $want not found. Install it (e.g. 'pyenv install $want' or 'apt-get install python$want python$want-venv') and re-run." >&2
exit 1
