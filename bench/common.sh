# Shell functions the benchmark scripts share; sourced, not run.

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The backend a database URL names (sqlite or postgres); for PostgreSQL the
# named database is dropped and created afresh on the same server.
prepare_database() { # url
    local backend=${1%%:*} name admin_url
    if [ "$backend" = postgres ] || [ "$backend" = postgresql ]; then
        name=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).path.lstrip("/"))' "$1")
        admin_url=$(python3 -c 'import sys, urllib.parse; u=urllib.parse.urlparse(sys.argv[1]); print(u._replace(path="/postgres").geturl())' "$1")
        PGOPTIONS='--client-min-messages=warning' psql -q -v ON_ERROR_STOP=1 "$admin_url" \
            -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >&2
        backend=postgres
    fi
    echo "$backend"
}

# Waits until the service at a base URL is ready (30 s at most).
wait_ready() { # base
    for _ in $(seq 1 300); do
        curl -sf "$1/readyz" > /dev/null && return
        sleep 0.1
    done
    curl -sf "$1/readyz" > /dev/null
}

# A scratch directory in $work, removed on exit together with the server
# whose pid is in $server (if any).
make_workspace() {
    work=$(mktemp -d)
    server=
    trap remove_workspace EXIT
}

remove_workspace() {
    [ -n "$server" ] && kill "$server" 2> /dev/null
    wait 2> /dev/null || true
    rm -rf "$work"
}
