# CI: a throwaway PostgreSQL server for the tests. Sourced by .ci/run (bash):
#   ci_postgres_start   installs Debian's `postgresql` if no server binaries are found, starts a cluster
#                       on 127.0.0.1 and a free port (data in a temp folder, fsync off), creates a role
#                       with a password and a database it owns, and exports KLAVIYO_INGEST_TEST_POSTGRES_URL;
#   ci_postgres_stop    stops it and removes the folder (safe to call twice; .ci/run calls it at exit).
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user.

ci_pg_dir=""
ci_pg_bindir=""

# The folder holding initdb, pg_ctl and postgres (pg_config --bindir, else the newest
# /usr/lib/postgresql/N/bin); prints nothing and fails when there is none.
ci_postgres_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Installs Debian's postgresql when no server binaries are present. The package creates and starts a
# `main` cluster on 5432; the tests do not use it, so it is stopped.
ci_postgres_install() {
  if ci_postgres_bindir >/dev/null; then
    return 0
  fi
  echo "== postgresql: no server binaries found; installing Debian's postgresql"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version name _port status _; do
      [ "$status" = online ] || continue
      echo "== postgresql: stopping the package's own cluster $version/$name"
      "${sudo[@]}" pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done
  fi
  ci_postgres_bindir >/dev/null || {
    echo "postgresql: installed, but still no initdb/pg_ctl/postgres found" >&2
    return 1
  }
}

ci_postgres_start() {
  ci_postgres_install
  ci_pg_bindir=$(ci_postgres_bindir)
  local as_pg=()
  ci_pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/ki-ci-pg.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || {
      echo "postgresql: running as root and there is no postgres user to run the server as" >&2
      return 1
    }
    chown postgres: "$ci_pg_dir"
    as_pg=(runuser -u postgres --)
  fi
  local admin_password password port
  admin_password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")

  (umask 077 && printf '%s\n' "$admin_password" >"$ci_pg_dir/pwfile")
  [ ${#as_pg[@]} -eq 0 ] || chown postgres: "$ci_pg_dir/pwfile"
  if ! LC_ALL=C "${as_pg[@]}" "$ci_pg_bindir/initdb" -D "$ci_pg_dir/data" -U ki_admin --pwfile="$ci_pg_dir/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$ci_pg_dir/initdb.log" 2>&1; then
    echo "postgresql: initdb failed:" >&2
    cat "$ci_pg_dir/initdb.log" >&2
    return 1
  fi
  rm -f "$ci_pg_dir/pwfile"
  cat >>"$ci_pg_dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = '$port'
unix_socket_directories = '$ci_pg_dir'
fsync = 'off'
synchronous_commit = 'off'
full_page_writes = 'off'
EOF
  if ! LC_ALL=C "${as_pg[@]}" "$ci_pg_bindir/pg_ctl" -D "$ci_pg_dir/data" -l "$ci_pg_dir/server.log" -w -t 60 start >/dev/null; then
    echo "postgresql: pg_ctl start failed:" >&2
    cat "$ci_pg_dir/server.log" >&2
    return 1
  fi
  # The role and database the tests use: not a superuser, owner of its database. The SQL goes through
  # stdin so the password is not on a command line.
  local psql="$ci_pg_bindir/psql"
  [ -x "$psql" ] || psql=psql
  printf "CREATE ROLE ki_test LOGIN PASSWORD '%s';\nCREATE DATABASE ki_test OWNER ki_test;\n" "$password" |
    PGPASSWORD="$admin_password" "$psql" -X -q -h 127.0.0.1 -p "$port" -U ki_admin -d postgres -v ON_ERROR_STOP=1 -f -
  export KLAVIYO_INGEST_TEST_POSTGRES_URL="postgres://ki_test:${password}@127.0.0.1:${port}/ki_test"
  echo "== postgresql: $("$ci_pg_bindir/postgres" --version) on 127.0.0.1:${port} (data in ${ci_pg_dir})"
}

ci_postgres_stop() {
  [ -n "$ci_pg_dir" ] || return 0
  if [ -f "$ci_pg_dir/data/postmaster.pid" ]; then
    local as_pg=()
    [ "$(id -u)" -ne 0 ] || as_pg=(runuser -u postgres --)
    "${as_pg[@]}" "$ci_pg_bindir/pg_ctl" -D "$ci_pg_dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$ci_pg_dir"
  ci_pg_dir=""
}
