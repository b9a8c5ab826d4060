#!/bin/sh
# The local Connect Cases / Customer Profiles stand-in, with one command.
#
#   sh scripts/standin.sh [standin.py options]          run in the foreground (Ctrl-C stops it)
#   sh scripts/standin.sh run [OPTIONS --] CMD [ARGS...]
#                                                       start it (with standin.py OPTIONS), run CMD
#                                                       with AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
#                                                       AWS_SECRET_ACCESS_KEY, AWS_REGION and
#                                                       LAWS_STANDIN_URL set, stop it
#   sh scripts/standin.sh load [--seconds 3 --conns 8]  start it, measure its own capacity
#                                                       (signed GetCase requests/s), stop it
# standin.py options: --port N (default: a free port), --key AKID:SECRET[:TOKEN], --lag S,
# --lag-median S --lag-p95 S, --seed N, --region R|any, --clock-offset S. Control API: see
# doc/INTERNALS.md ("The Connect Cases stand-in").
cd "$(dirname "$0")/.." || exit 2
if ! python3 -c 'import botocore' 2>/dev/null; then
  echo "standin: python3 cannot import botocore (Debian: apt-get install python3-botocore)" >&2
  exit 3
fi

case "${1:-}" in
  run|load)
    mode=$1; shift
    opts=""
    case "${1:-}" in
      -*)   # standin.py options (single words) up to "--"
        while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
        [ $# -gt 0 ] && shift ;;
    esac
    ready=$(mktemp)
    rm -f "$ready"
    if [ "$mode" = run ]; then
      # shellcheck disable=SC2086 # opts: one word per option
      LAWS_PARENT_PID=$$ LAWS_READY_FILE=$ready python3 spec/support/standin.py $opts >"$ready.log" 2>&1 &
    else
      LAWS_PARENT_PID=$$ LAWS_READY_FILE=$ready python3 spec/support/standin.py --lag 0 >"$ready.log" 2>&1 &
    fi
    pid=$!
    trap 'kill $pid 2>/dev/null; rm -f "$ready" "$ready.log"' EXIT INT TERM
    i=0
    while [ ! -s "$ready" ]; do
      i=$((i + 1))
      if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
        echo "standin: did not start:" >&2; cat "$ready.log" >&2; exit 1
      fi
      sleep 0.05
    done
    read -r port akid secret < "$ready"
    url="http://127.0.0.1:$port"
    echo "standin: $url (pid $pid, access key $akid)" >&2
    if [ "$mode" = load ]; then
      python3 spec/support/standin_load.py "$url" --key "$akid:$secret" "$@"
      exit $?
    fi
    AWS_ENDPOINT_URL=$url LAWS_STANDIN_URL=$url AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret \
      AWS_REGION=${AWS_REGION:-us-east-1} "$@"
    exit $?
    ;;
  *)
    echo "standin: starting; default keys AKIDSTANDIN (long-term) and ASIASTANDIN (with session token)," \
         "see spec/support/standin.py" >&2
    exec python3 spec/support/standin.py "$@"
    ;;
esac
