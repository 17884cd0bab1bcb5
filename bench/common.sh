# Shell functions the benchmark scripts share; sourced, not run.

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A PostgreSQL URL with its path (the database) replaced by the given one.
with_database() { # url name
    python3 -c 'import sys, urllib.parse; u=urllib.parse.urlparse(sys.argv[1]); print(u._replace(path="/" + sys.argv[2]).geturl())' "$1" "$2"
}

# The database a PostgreSQL URL names.
database_name() { # url
    python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).path.lstrip("/"))' "$1"
}

# Runs SQL statements on the server of a PostgreSQL URL, in its postgres
# database (to drop and create others).
on_server() { # url statement...
    local admin_url
    admin_url=$(with_database "$1" postgres)
    shift
    local statements=()
    for statement in "$@"; do statements+=(-c "$statement"); done
    PGOPTIONS='--client-min-messages=warning' psql -q -v ON_ERROR_STOP=1 "$admin_url" "${statements[@]}" >&2
}

# The backend a database URL names (sqlite or postgres); for PostgreSQL the
# named database is dropped and created afresh on the same server.
prepare_database() { # url
    local backend=${1%%:*} name
    if [ "$backend" = postgres ] || [ "$backend" = postgresql ]; then
        name=$(database_name "$1")
        on_server "$1" "DROP DATABASE IF EXISTS \"$name\"" "CREATE DATABASE \"$name\""
        backend=postgres
    fi
    echo "$backend"
}

# A copy of a seeded database, under the same name with "_floor" after it
# (PostgreSQL, from it as a template: nothing may be connected to it) or
# in DIR (an SQLite file); prints the copy's URL.
copy_database() { # url backend dir
    if [ "$2" = postgres ]; then
        local name
        name=$(database_name "$1")
        on_server "$1" "DROP DATABASE IF EXISTS \"${name}_floor\"" \
            "CREATE DATABASE \"${name}_floor\" TEMPLATE \"$name\""
        with_database "$1" "${name}_floor"
    else
        local file=${1#sqlite://}
        for suffix in "" -wal; do
            if [ -e "$file$suffix" ]; then cp "$file$suffix" "$3/floor.db$suffix"; fi
        done
        echo "sqlite://$3/floor.db"
    fi
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
