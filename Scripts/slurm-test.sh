#!/usr/bin/env bash
# Checks that a report built in shards on Slurm equals the same report built in one process.
#
#   Scripts/slurm-test.sh LOUPE [SPEC]
#
# Starts a single-node Slurm cluster of its own on this machine (munged, slurmctld and slurmd, every
# file in a temporary folder, on free ports), then in one report folder (a report's name comes from
# its folder, and the name is part of the findings and the site):
#   1. builds the report unsharded (`loupe build SPEC --force`) and sets its findings and site aside;
#   2. builds it again as a job array of SHARDS tasks (Scripts/loupe-shards.sbatch), one CPU each,
#      and combines the shards with `loupe merge`;
#   3. compares the findings JSON and the site of both builds byte for byte;
# prints each build's wall time and peak resident memory, and stops the cluster, also on failure.
#
# LOUPE is the loupe executable. SPEC is a report spec whose folder is copied and built (its spec must
# refer to files inside that folder only); without it, a small report on the demo model and dictionary
# (Reports/demo) is written. In the environment, SHARDS sets the number of shards (4) and TIMEOUT the
# seconds the job array may take (3600). Needs munge and Slurm (Debian: munge slurm-wlm) and root,
# as slurmd starts every job as its submitting user.
set -euo pipefail

usage="usage: Scripts/slurm-test.sh LOUPE [SPEC]"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "$usage" >&2
    exit 2
fi
repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
loupe=$(realpath "$1")
spec_source=${2:+$(realpath "$2")}
shards=${SHARDS:-4}
timeout=${TIMEOUT:-3600}
[ -x "$loupe" ] || { echo "error: $1 is not an executable" >&2; exit 2; }

fail() {
    echo "error: $*" >&2
    exit 1
}

for tool in munged mungekey slurmctld slurmd sbatch scontrol sinfo scancel; do
    command -v "$tool" >/dev/null || fail "$tool not found: install munge and slurm-wlm (make slurm-test does)"
done
[ "$(id -u)" = 0 ] || fail "run as root: slurmd must be able to start jobs as their user"

# Every file lives under one temporary folder. munged wants every folder above its socket searchable
# by all and its key in a folder of its owner's alone.
work=$(mktemp -d /tmp/loupe-slurm.XXXXXX)
chmod 755 "$work"
mkdir -m 755 "$work/munge" "$work/slurm" "$work/slurm/state" "$work/slurm/spool" "$work/jobs"
mkdir -m 700 "$work/munge/key"

munged_pid='' slurmctld_pid='' slurmd_pid='' job=''

# Stops a daemon started by this script: SIGTERM, then SIGKILL if it is still running after 20 s.
stop() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Runs on every exit: cancels a job still in the cluster, stops the daemons, removes the folder.
cleanup() {
    local status=$?
    if [ -n "$job" ] && [ -n "$slurmctld_pid" ]; then
        scancel "$job" 2>/dev/null || true
        for _ in $(seq 100); do
            scontrol -o show job "$job" 2>/dev/null | grep -qE 'JobState=(PENDING|CONFIGURING|RUNNING|COMPLETING)' || break
            sleep 0.2
        done
    fi
    stop "$slurmd_pid"
    stop "$slurmctld_pid"
    stop "$munged_pid"
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on (from /proc/net/tcp and tcp6, whose ports are hexadecimal), other
# than $1.
free_port() {
    local used=" " hex port
    for hex in $(awk 'FNR > 1 { split($2, address, ":"); print address[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
        used+="$((16#$hex)) "
    done
    while :; do
        port=$((20000 + RANDOM % 20000))
        [[ $used == *" $port "* || $port == "${1:-}" ]] || { echo "$port"; return; }
    done
}

# Prints the last lines of the daemons' logs and standard error (after a failure of the cluster).
show_logs() {
    for log in "$work"/munge/munged.{log,stderr} "$work"/slurm/slurmctld.{log,stderr} "$work"/slurm/slurmd.{log,stderr}; do
        if [ -f "$log" ]; then
            echo "--- $log"
            tail -n 20 "$log"
        fi
    done >&2
}

# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }
# Seconds from $1 to now, to the hundredth.
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.2f", end - start }'; }

# --- the cluster ---------------------------------------------------------------------------------

cluster_start=$(now)
socket=$work/munge/munge.socket
mungekey -c -k "$work/munge/key/munge.key"
munged -F --socket="$socket" --key-file="$work/munge/key/munge.key" --pid-file="$work/munge/munged.pid" \
    --seed-file="$work/munge/munged.seed" --log-file="$work/munge/munged.log" >"$work/munge/munged.stderr" 2>&1 &
munged_pid=$!
for _ in $(seq 100); do
    [ -S "$socket" ] && break
    kill -0 "$munged_pid" 2>/dev/null || { show_logs; fail "munged exited"; }
    sleep 0.1
done
[ -S "$socket" ] || { show_logs; fail "munged did not open $socket within 10 s"; }

node=$(hostname -s)
cpus=$(nproc)
memory=$(free -m | awk '/^Mem:/ { print $2 }')
controller_port=$(free_port)
node_port=$(free_port "$controller_port")
export SLURM_CONF=$work/slurm/slurm.conf
cat >"$SLURM_CONF" <<EOF
# A single-node cluster on 127.0.0.1 whose files are all under $work/slurm.
ClusterName=loupetest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$controller_port
SlurmdPort=$node_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/slurmctld.log
SlurmdLogFile=$work/slurm/slurmd.log
PlugStackConfig=$work/slurm/plugstack.conf
# Processes tracked through /proc and tasks bound to their CPUs by affinity: the cgroup plugins need
# a cgroup tree the daemons may manage, which containers seldom give.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
# No accounting database: the tasks' states are read from slurmctld, which keeps finished jobs for
# an hour.
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=loupe Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
: >"$work/slurm/plugstack.conf"

slurmctld -D -f "$SLURM_CONF" >"$work/slurm/slurmctld.stderr" 2>&1 &
slurmctld_pid=$!
slurmd -D -f "$SLURM_CONF" -N "$node" >"$work/slurm/slurmd.stderr" 2>&1 &
slurmd_pid=$!

# The node registers with slurmctld and turns idle within a few seconds (or invalid at once when it
# has less memory or fewer CPUs than configured).
state=
for _ in $(seq 300); do
    kill -0 "$slurmctld_pid" 2>/dev/null || { show_logs; fail "slurmctld exited"; }
    kill -0 "$slurmd_pid" 2>/dev/null || { show_logs; fail "slurmd exited"; }
    state=$(sinfo -h -N -n "$node" -o %T 2>/dev/null || true)
    case $state in idle | inval* | drain*) break ;; esac
    sleep 0.1
done
[ "$state" = idle ] || { show_logs; fail "node $node is ${state:-unknown}, not idle (after up to 30 s)"; }
echo "cluster up in $(since "$cluster_start") s: node $node, $cpus CPUs, $memory MB, slurmctld port $controller_port, slurmd port $node_port"

# --- the report ----------------------------------------------------------------------------------

report=$work/report
if [ -n "$spec_source" ]; then
    cp -r "$(dirname "$spec_source")" "$report"
    rm -rf "$report/findings" "$report/site"
    spec=$report/$(basename "$spec_source")
else
    mkdir "$report"
    cp -r "$repository/Reports/demo/model" "$repository/Reports/demo/dictionary" "$report/"
    spec=$report/report.yaml
    cat >"$spec" <<'EOF'
# A small feature atlas of the demo model's residual stream, built unsharded and sharded.
title: Loupe Slurm test — the demo model on 400 documents of the toy world
model: model
corpus:
  toy_world: {documents: 400, seed: 7}
  context: 64
  prepend_bos: true
hooks:
  - hook: blocks.2.hook_resid_post
    dictionary: {saelens: dictionary}
atlas: {top_examples: 20, intervals: 10, interval_examples: 5, explain: true}
EOF
fi

# The last figure of `loupe build --timings`'s `total` row: the build's peak resident memory in MB.
peak_of() { awk '$1 == "total" { print $NF }' "$1"; }

echo "building unsharded"
start=$(now)
"$loupe" build "$spec" --force --quiet --timings >"$work/unsharded.out" 2>&1 \
    || { cat "$work/unsharded.out" >&2; fail "the unsharded build failed"; }
unsharded_seconds=$(since "$start")
unsharded_peak=$(peak_of "$work/unsharded.out")
mkdir "$work/unsharded" "$work/unsharded/findings"
cp "$report"/findings/findings-*.json "$work/unsharded/findings/"
cp -r "$report/site" "$work/unsharded/site"
rm -rf "$report/findings" "$report/site"

# Submits the users' script as an array of $shards tasks (round $1; its output in jobs/round$1-shard-N.out),
# waits until every task has ended and fails unless each completed. One CPU and an equal part of the
# memory per task: as many shards run at once as there are CPUs, each bound to its own.
run_round() {
    local round=$1 records unfinished failed line state deadline
    echo "round $round: $shards shards as a Slurm job array"
    job=$(LOUPE=$loupe sbatch --parsable --array="0-$((shards - 1))" --cpus-per-task=1 --mem="$((memory / cpus))M" \
        --output="$work/jobs/round$round-shard-%a.out" --chdir="$work" "$repository/Scripts/loupe-shards.sbatch" "$spec")
    job=${job%%;*}
    # `scontrol -o show job` prints a line per task (pending tasks may share one line), with its JobState.
    deadline=$((SECONDS + timeout))
    while :; do
        records=$(scontrol -o show job "$job")
        unfinished=$(grep -cE 'JobState=(PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|RESIZING)' <<<"$records" || true)
        [ "$unfinished" = 0 ] && break
        [ "$SECONDS" -lt "$deadline" ] || fail "job $job has not ended after $timeout s"
        sleep 1
    done
    failed=0
    for task in $(seq 0 $((shards - 1))); do
        line=$(grep -E "ArrayTaskId=$task " <<<"$records" || true)
        state=$(grep -oE 'JobState=[^ ]+' <<<"$line" | cut -d= -f2 || true)
        [ "$state" = COMPLETED ] && continue
        failed=1
        echo "round $round, shard $task/$shards: ${state:-missing} ($(grep -oE 'Reason=[^ ]+' <<<"$line" || true)); its output:" >&2
        cat "$work/jobs/round$round-shard-$task.out" >&2 2>/dev/null || echo "(none)" >&2
    done
    [ "$failed" = 0 ] || fail "not every task of job $job completed"
    job=
}
# The second round starts once the first has completed, as `sbatch --dependency=afterok:JOB` does it for users.
run_round 1
run_round 2

echo "merging"
start=$(now)
"$loupe" merge "$spec" --quiet --timings >"$work/merge.out" 2>&1 || { cat "$work/merge.out" >&2; fail "loupe merge failed"; }
merge_seconds=$(since "$start")

mkdir "$work/sharded" "$work/sharded/findings"
cp "$report"/findings/findings-*.json "$work/sharded/findings/"
# The findings are long lines of JSON: a file that differs is shown by its first differing byte.
if ! diff -rq "$work/unsharded/findings" "$work/sharded/findings" >&2; then
    for file in "$work"/unsharded/findings/findings-*.json; do
        [ ! -f "$work/sharded/findings/${file##*/}" ] || cmp "$file" "$work/sharded/findings/${file##*/}" >&2 || true
    done
    fail "the sharded build's findings JSON differs from the unsharded build's"
fi
diff -rq "$work/unsharded/site" "$report/site" >&2 || fail "the sharded build's site differs from the unsharded build's"
echo "the sharded build's findings ($(cd "$work/sharded/findings" && echo findings-*.json)) and site equal the unsharded build's"

echo
printf '%-20s %10s %14s\n' build "wall s" "peak RSS MB"
printf '%-20s %10s %14s\n' unsharded "$unsharded_seconds" "${unsharded_peak:-?}"
for round in 1 2; do
    for task in $(seq 0 $((shards - 1))); do
        summary=$(grep '^loupe shard ' "$work/jobs/round$round-shard-$task.out" | tail -n 1)
        seconds=$(sed -nE 's/.*: ([0-9.]+) s wall.*/\1/p' <<<"$summary")
        peak=$(sed -nE 's/.* ([0-9?]+) MB peak resident.*/\1/p' <<<"$summary")
        printf '%-20s %10s %14s\n' "round $round, shard $task/$shards" "$seconds" "$peak"
    done
done
printf '%-20s %10s %14s\n' merge "$merge_seconds" "$(peak_of "$work/merge.out")"
