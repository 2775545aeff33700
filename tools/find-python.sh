#!/usr/bin/env sh
# Print the path of a Python >= 3.12 interpreter, or explain and fail.
# Order: $PYTHON, python3.13/python3.12/python3 on PATH, then pyenv's and common install folders.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for c in "${PYTHON:-}" python3.13 python3.12 python3 \
         "$root"/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -n "$c" ] || continue
    p=$(command -v "$c" 2>/dev/null) || continue
    if ok "$p"; then echo "$p"; exit 0; fi
done
echo "bayesml needs Python >= 3.12 and none was found." >&2
echo "Install one (e.g. 'pyenv install 3.12'), or point PYTHON at it: make test PYTHON=/path/to/python3.12" >&2
exit 1
